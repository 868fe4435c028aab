"""The live broadcast of a room (HLS) for large audiences.

``GET /rooms/{id}/live.m3u8`` (whoever may listen to the room) starts the broadcast if needed
and redirects to its playlist under a random key; the playlist, init segment and segments
under that key are served to anyone who has it, with cache headers that let a CDN or caching
proxy serve every listener from one request to the origin: segments are immutable, the
playlist lasts a second (a blocking reload, ``?_HLS_msn=N``, waits for segment N instead of
polling, and is cacheable for as long as it can be asked).
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from media.hls import CODECS, SEGMENT
from server.auth.gate import principal_of
from server.http.errors import NotFound
from server.rooms.access import room_for
from server.rooms.broadcast import Broadcast
from server.rooms.rooms import Rooms

PLAYLIST = "application/vnd.apple.mpegurl"
IMMUTABLE = "public, max-age=3600, immutable"


def broadcast_router(rooms: Rooms) -> APIRouter:
    router = APIRouter(prefix="/rooms", tags=["Broadcast"])

    def keyed(room_id: str, key: str) -> Broadcast:
        room = rooms.get(room_id) if rooms.has(room_id) else None
        running = room.running_broadcast if room is not None else None
        if running is None or not hmac.compare_digest(running.key, key):
            raise NotFound("no such broadcast (it ended, or the link is wrong): ask for live.m3u8")
        return running

    @router.get("/{room_id}/live.m3u8")
    async def live(room_id: str, request: Request) -> RedirectResponse:
        """The room's broadcast: a redirect to its playlist (a few seconds behind the room)."""
        room = room_for(rooms, room_id, principal_of(request.scope), "see")
        broadcast = room.broadcast()
        return RedirectResponse(
            f"/rooms/{room_id}/live/{broadcast.key}/index.m3u8",
            status_code=302,
            headers={"cache-control": "no-store", "x-podium-codecs": CODECS},
        )

    @router.get("/{room_id}/live/{key}/index.m3u8")
    async def playlist(
        room_id: str,
        key: str,
        msn: int | None = Query(default=None, alias="_HLS_msn", ge=0),
    ) -> Response:
        broadcast = keyed(room_id, key)
        broadcast.asked()
        if msn is not None:
            await broadcast.until(msn)
        age = int(3 * SEGMENT) if msn is not None else 1
        return Response(
            broadcast.playlist(),
            media_type=PLAYLIST,
            headers={"cache-control": f"public, max-age={age}"},
        )

    @router.get("/{room_id}/live/{key}/init.mp4")
    async def init(room_id: str, key: str) -> Response:
        broadcast = keyed(room_id, key)
        if broadcast.init is None:
            raise NotFound("the broadcast has not begun yet; ask again in a moment")
        return Response(
            broadcast.init, media_type="audio/mp4", headers={"cache-control": IMMUTABLE}
        )

    @router.get("/{room_id}/live/{key}/{seq}.m4s")
    async def segment(room_id: str, key: str, seq: int) -> Response:
        found = keyed(room_id, key).segment(seq)
        if found is None:
            raise NotFound(f"segment {seq} is not (or no longer) in the broadcast")
        return Response(found.data, media_type="audio/mp4", headers={"cache-control": IMMUTABLE})

    return router
