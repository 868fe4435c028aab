"""Recordings: list, describe, play (HTTP ranges), transcript (JSON, WebVTT), delete.

A recording belongs to its room's owner; a room link's holder may read its room's recordings
(not delete them). Every replica answers from the database. Recording a room is started and
stopped on the room (``POST``/``DELETE /rooms/{id}/recording``, in ``server.api.rooms``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from media.ogg_opus import clip
from server.auth.gate import principal_of
from server.auth.principal import Principal
from server.http.errors import BadRequest, Forbidden, NotFound, RangeNotSatisfiable
from server.recordings.transcript import transcript, webvtt
from server.rooms.access import sees
from server.rooms.rooms import Rooms
from store.recordings import Recording, RecordingStore

READ_BLOCK = 1 << 20  # bytes read from the database at a time while streaming
MAX_CLIP = 600.0  # seconds: the longest clip (a turn's audio is far shorter)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range asked for, as (first, last) inclusive; None: the whole file (no header,
    one this server does not take, or several ranges). RangeNotSatisfiable past the end."""
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # several ranges or another unit: the whole file, as RFC 9110 allows
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        if int(last) == 0 or size == 0:
            raise RangeNotSatisfiable(f"the recording has {size} bytes", size)
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(f"bytes {header[6:]} are not within the recording's {size}", size)
    return start, end


def recordings_router(store: RecordingStore, rooms: Rooms) -> APIRouter:
    router = APIRouter(prefix="/recordings", tags=["Recordings"])

    async def readable(recording_id: str, principal: Principal) -> Recording:
        recording = await store.get(recording_id)
        if recording is None or not sees(principal, recording.room_id, recording.owner):
            raise NotFound(f"unknown recording {recording_id!r}")
        return recording

    def described(recording: Recording) -> dict[str, object]:
        base = f"/recordings/{recording.id}"
        return recording.info() | {
            "audio": f"{base}/audio",
            "transcript_json": f"{base}/transcript.json",
            "transcript_vtt": f"{base}/transcript.vtt",
        }

    @router.get("")
    async def listed(request: Request) -> list[dict[str, object]]:
        """The caller's recordings (a room link's holder: their room's), newest first."""
        principal = principal_of(request.scope)
        if principal.is_room_guest:
            found = await store.listed(room_id=principal.room)
        else:
            found = await store.listed(owner=principal.name)
        return [described(r) for r in found]

    @router.get("/{recording_id}")
    async def describe(recording_id: str, request: Request) -> dict[str, object]:
        """As listed, and who spoke in it (agents and people, in order of first turn)."""
        recording = await readable(recording_id, principal_of(request.scope))
        turns = transcript(recording, await store.events(recording.id))["turns"]
        speakers = list(dict.fromkeys(turn["speaker"] for turn in turns))
        return described(recording) | {"speakers": speakers}

    @router.get("/{recording_id}/audio")
    async def audio(
        recording_id: str,
        request: Request,
        start: float | None = Query(default=None, ge=0, description="seconds: a clip from"),
        end: float | None = Query(default=None, gt=0, description="seconds: a clip to"),
    ) -> Response:
        """Ogg/Opus; one byte range at a time for seeking (``Range: bytes=a-b``); with
        ``start`` and ``end``, that span as an Ogg/Opus file of its own (a turn's audio)."""
        recording = await readable(recording_id, principal_of(request.scope))
        if start is not None or end is not None:
            return await clipped(recording, start or 0.0, end)
        size = recording.size
        wanted = byte_range(request.headers.get("range"), size)
        headers = {
            "accept-ranges": "bytes",
            "cache-control": "private, no-cache" if recording.state == "recording" else "private",
        }
        if size == 0:
            return Response(b"", media_type="audio/ogg", headers=headers)
        first, last = wanted if wanted is not None else (0, size - 1)
        headers["content-length"] = str(last - first + 1)
        if wanted is not None:
            headers["content-range"] = f"bytes {first}-{last}/{size}"

        async def body() -> AsyncIterator[bytes]:
            at = first
            while at <= last:
                block = await store.read(recording.id, at, min(last, at + READ_BLOCK - 1))
                if not block:
                    return  # deleted meanwhile
                yield block
                at += len(block)

        status = 206 if wanted is not None else 200
        return StreamingResponse(body(), status, headers, media_type="audio/ogg")

    async def clipped(recording: Recording, start: float, end: float | None) -> Response:
        end = recording.duration if end is None else end
        if end <= start or end - start > MAX_CLIP:
            raise BadRequest(f"a clip runs from start to a later end, {MAX_CLIP:.0f} s at most")
        whole = await store.read(recording.id, 0, max(0, recording.size - 1))
        data = await asyncio.to_thread(clip, whole, start, end)
        if not data:
            raise RangeNotSatisfiable(
                f"the recording has nothing from {start} to {end} s", recording.size
            )
        headers = {"cache-control": "private", "content-length": str(len(data))}
        return Response(data, media_type="audio/ogg", headers=headers)

    @router.get("/{recording_id}/transcript.json")
    async def transcript_json(recording_id: str, request: Request) -> JSONResponse:
        recording = await readable(recording_id, principal_of(request.scope))
        return JSONResponse(transcript(recording, await store.events(recording.id)))

    @router.get("/{recording_id}/transcript.vtt")
    async def transcript_vtt(recording_id: str, request: Request) -> Response:
        recording = await readable(recording_id, principal_of(request.scope))
        document = transcript(recording, await store.events(recording.id))
        return Response(webvtt(document), media_type="text/vtt; charset=utf-8")

    @router.delete("/{recording_id}", status_code=204)
    async def delete(recording_id: str, request: Request) -> None:
        """Deletes it (one in progress here is stopped first; elsewhere, its recorder stops
        at its next store)."""
        principal = principal_of(request.scope)
        recording = await readable(recording_id, principal)
        if principal.is_room_guest:
            raise Forbidden("only the recording's owner can delete it; a room link cannot")
        if rooms.has(recording.room_id):
            room = rooms.get(recording.room_id)
            if room.recording_id == recording.id:
                await room.stop_recording("deleted")
        await store.delete(recording.id)

    return router
