"""Voice room routes: create/list/get/delete, SDP offer → answer, debate, say, live events."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Literal

import av
import httpx
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from agents.debate.guests import is_url
from media.peer import BadOffer, NoRelay
from media.socket_audio import SOCKET_RATE, PcmInTrack, to_16k
from server.auth.gate import principal_of
from server.auth.links import RoomLinks
from server.auth.principal import Grant, Principal
from server.background import BackgroundTasks
from server.http.errors import BadRequest, Forbidden, NotFound, PodiumError, Unavailable
from server.http.ratelimit import Limiter
from server.http.throttle import audio_charge
from server.replicas.forward_proof import FORWARDED, ForwardProof
from server.replicas.room_leases import RoomLeases
from server.replicas.room_records import RoomRecord
from server.rooms.access import Need, room_for, sees
from server.rooms.events import EVENT_TYPES
from server.rooms.invites import Invites, described
from server.rooms.participants import RoomFull
from server.rooms.room import Room
from server.rooms.rooms import Rooms
from server.webrtc import IceServers

log = logging.getLogger(__name__)
MAX_SOCKET_MESSAGE = 64 * 1024


async def _listed_by(
    http: httpx.AsyncClient,
    replica: str,
    records: list[RoomRecord],
    principal: Principal,
    authorization: str | None,
    proof: ForwardProof,
) -> list[dict[str, object]]:
    """The caller's rooms another replica holds, as it lists them (as on record if it does
    not answer)."""
    headers = {FORWARDED: proof.sign("GET", "/rooms?local=true")}
    if authorization:
        headers["authorization"] = authorization
    try:
        response = await http.get(
            f"{replica.rstrip('/')}/rooms?local=true", headers=headers, timeout=2.0
        )
        if response.status_code == 200:
            return list(response.json())
    except (httpx.HTTPError, ValueError) as error:
        log.warning("replica %s did not list its rooms: %s", replica, error)
    return [
        {"id": r.id, "topic": r.topic, "agents": list(r.agents), "replica": replica}
        for r in records
        if sees(principal, r.id, r.owner)
    ]


class CreateRoom(BaseModel):
    topic: str = Field(min_length=1, max_length=500)
    agents: list[str] | None = None
    debate: bool = False
    rounds: int | None = Field(default=None, ge=1, le=20)
    interruptions: int | None = Field(default=None, ge=0, le=50, description="agent cut-ins")
    record: bool = Field(default=False, description="record the room from the start")


class Offer(BaseModel):
    sdp: str = Field(min_length=1, max_length=100_000)
    type: Literal["offer"] = "offer"
    role: Literal["speaker", "listener"] = "speaker"
    name: str | None = Field(default=None, max_length=60)


class Say(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    name: str = Field(default="guest", max_length=60)


class StartDebate(BaseModel):
    rounds: int | None = Field(default=None, ge=1, le=20)
    interruptions: int | None = Field(default=None, ge=0, le=50, description="agent cut-ins")


class LinkRequest(BaseModel):
    grant: Grant = "listen"
    ttl: float | None = Field(default=None, gt=0, le=30 * 86400, description="seconds")


def rooms_router(
    rooms: Rooms,
    leases: RoomLeases,
    http: httpx.AsyncClient,
    links: RoomLinks | None,
    link_ttl: float,
    ice: IceServers,
    proof: ForwardProof,
    limiter: Limiter | None = None,
    invites: Invites | None = None,
) -> APIRouter:
    """The room routes; ``links`` signs share links (None: authentication is off, a room's
    plain URL is its link)."""
    router = APIRouter(prefix="/rooms", tags=["Voice rooms"])

    def share(room_id: str, grant: Grant, ttl: float | None = None) -> dict[str, object]:
        path = f"/?room={room_id}"
        if links is None:
            return {"grant": grant, "url": path, "token": None, "expires": None}
        token, expires = links.issue(room_id, grant, ttl or link_ttl)
        return {"grant": grant, "url": f"{path}&token={token}", "token": token, "expires": expires}

    async def create_room(body: CreateRoom, principal: Principal) -> Room:
        """The room, with any agents named by URL invited into it (fetched and checked)."""
        urls = [a for a in body.agents or [] if is_url(a)]
        if not urls:
            return await rooms.create(body.topic, body.agents, principal.name)
        if invites is None:
            raise BadRequest("this server does not invite agents by URL")
        rooms.check_capacity()
        local = [a for a in body.agents or [] if not is_url(a)]
        personas = await invites.invite(urls, local)
        try:
            room = await rooms.create(
                body.topic,
                local + [p.name for p in personas],
                principal.name,
                described(personas, urls),
            )
        except BaseException:
            await invites.release("", personas)
            raise
        invites.attach(room.id, personas)
        return room

    @router.post("", status_code=201)
    async def create(body: CreateRoom, request: Request) -> JSONResponse:
        principal = principal_of(request.scope)
        if principal.is_room_guest:
            raise Forbidden("a room link cannot create rooms")
        room = await create_room(body, principal)
        if body.record:
            try:
                await room.start_recording()
            except PodiumError:
                await rooms.delete(room.id)  # a room asked to be recorded is not left unrecorded
                raise
        if body.debate:
            await room.start_debate(body.rounds, body.interruptions)
        info = room.info() | {"links": [share(room.id, "listen"), share(room.id, "speak")]}
        return JSONResponse(info, status_code=201)

    @router.get("")
    async def list_rooms(request: Request, local: bool = False) -> list[dict[str, object]]:
        """The caller's rooms across the service (``local``: only those this replica holds)."""
        principal = principal_of(request.scope)
        listed = [
            {**room.info(), "replica": leases.replica}
            for room in rooms.all()
            if sees(principal, room.id, room.owner)
        ]
        if not local:
            authorization = request.headers.get("authorization")
            for replica, records in (await leases.others()).items():
                listed += await _listed_by(http, replica, records, principal, authorization, proof)
        return listed

    @router.post("/{room_id}/links", status_code=201)
    async def new_link(room_id: str, request: Request, body: LinkRequest) -> dict[str, object]:
        """A share link: whoever holds it can listen (or speak) in this room, until it
        expires, without an API key."""
        room = room_for(rooms, room_id, principal_of(request.scope), "own")
        return share(room.id, body.grant, body.ttl)

    @router.get("/event-types")
    async def event_types() -> list[str]:
        """Every event type a room publishes (on /events and /ws)."""
        return list(EVENT_TYPES)

    @router.get("/{room_id}")
    async def get(room_id: str, request: Request) -> dict[str, object]:
        return room_for(rooms, room_id, principal_of(request.scope)).info()

    @router.delete("/{room_id}", status_code=204)
    async def delete(room_id: str, request: Request) -> None:
        room_for(rooms, room_id, principal_of(request.scope), "own")
        await rooms.delete(room_id)

    @router.post("/{room_id}/offer")
    async def offer(room_id: str, body: Offer, request: Request) -> dict[str, str]:
        need: Need = "speak" if body.role == "speaker" else "see"
        principal = principal_of(request.scope)
        room = room_for(rooms, room_id, principal, need)
        if "m=audio" not in body.sdp:
            raise BadRequest("the offer has no audio media section (m=audio)")
        config = ice.for_principal(principal.name)
        try:
            sdp, participant_id = await room.join(body.sdp, body.type, body.role, body.name, config)
        except BadOffer as error:
            raise BadRequest(str(error)) from error
        except NoRelay as error:
            why = f"{error}: {await ice.why_no_relay()}"
            log.warning("room %s: a join got no relay candidate: %s", room_id, why)
            raise Unavailable(f"{why} (webrtc.ice_transport_policy is relay)") from error
        return {"sdp": sdp, "type": "answer", "participant_id": participant_id}

    @router.post("/{room_id}/recording", status_code=201)
    async def start_recording(room_id: str, request: Request) -> dict[str, object]:
        """Records the room from now on (everyone in it is told); the recording outlives it."""
        room = room_for(rooms, room_id, principal_of(request.scope), "own")
        return (await room.start_recording()).info()

    @router.delete("/{room_id}/recording")
    async def stop_recording(room_id: str, request: Request) -> dict[str, object]:
        room = room_for(rooms, room_id, principal_of(request.scope), "own")
        recording_id = await room.stop_recording()
        if recording_id is None:
            raise NotFound(f"room {room_id!r} is not being recorded")
        return {"id": recording_id, "audio": f"/recordings/{recording_id}/audio"}

    @router.get("/{room_id}/ice-servers")
    async def ice_servers(room_id: str, request: Request) -> JSONResponse:
        """The STUN/TURN servers to create a peer connection with, TURN credentials minted
        for the caller (short-lived: not to be cached)."""
        principal = principal_of(request.scope)
        room_for(rooms, room_id, principal, "see")
        config = ice.for_principal(principal.name)
        return JSONResponse(config.as_json(), headers={"cache-control": "no-store"})

    @router.delete("/{room_id}/participants/{participant_id}", status_code=204)
    async def leave(room_id: str, participant_id: str, request: Request) -> None:
        await room_for(rooms, room_id, principal_of(request.scope)).leave(participant_id)

    @router.post("/{room_id}/debate", status_code=202)
    async def debate(
        room_id: str, request: Request, body: StartDebate | None = None
    ) -> dict[str, object]:
        room = room_for(rooms, room_id, principal_of(request.scope), "own")
        body = body or StartDebate()
        await room.start_debate(body.rounds, body.interruptions)
        return room.info()

    @router.post("/{room_id}/say", status_code=202)
    async def say(room_id: str, body: Say, request: Request) -> dict[str, object]:
        """The text fallback: a typed message becomes a turn in the room."""
        room = room_for(rooms, room_id, principal_of(request.scope), "speak")
        agent = await room.say(body.text, body.name)
        return {"agent": agent}

    @router.get("/{room_id}/events")
    async def events(room_id: str, request: Request) -> EventSourceResponse:
        room = room_for(rooms, room_id, principal_of(request.scope))

        async def stream() -> AsyncIterator[ServerSentEvent]:
            async for event in room.subscribe():  # unnamed: ``onmessage`` gets every type
                yield ServerSentEvent(data=json.dumps(event))

        return EventSourceResponse(stream(), ping=15, sep="\n")

    @router.websocket("/{room_id}/ws")
    async def websocket(socket: WebSocket, room_id: str) -> None:
        try:
            room = room_for(rooms, room_id, principal_of(socket.scope))
        except PodiumError as error:
            await socket.accept()  # a close before accepting would be a bare HTTP 403
            await socket.close(code=4000 + error.status_code, reason=error.message[:120])
            return
        await socket.accept()
        session = BackgroundTasks(f"room {room_id} event socket")

        async def send() -> None:
            try:
                async for event in room.subscribe():
                    await socket.send_json(event)
                await socket.close()
            except Exception as error:  # the client went away: the session ends
                log.debug("room %s event socket ended: %s", room_id, error)

        sender = session.spawn(send())
        try:
            while not sender.done():  # read, so a client's close is noticed at once
                if (await socket.receive())["type"] == "websocket.disconnect":
                    break
        except WebSocketDisconnect:
            pass
        finally:
            await session.aclose()

    @router.websocket("/{room_id}/audio")
    async def socket_audio(
        socket: WebSocket,
        room_id: str,
        role: Literal["speaker", "listener"] = "speaker",
        name: str | None = None,
    ) -> None:
        """Audio without WebRTC: binary messages of 16 kHz mono s16le PCM in (speakers), the
        room's mix out in 20 ms messages of the same format."""
        principal = principal_of(socket.scope)
        try:
            room = room_for(rooms, room_id, principal, "speak" if role == "speaker" else "see")
        except PodiumError as error:
            await socket.accept()  # a close before accepting would be a bare HTTP 403
            await socket.close(code=4000 + error.status_code, reason=error.message[:120])
            return
        await socket.accept()
        charge = audio_charge(socket, limiter)
        inbound = PcmInTrack()
        try:
            participant = room.join_socket(role, (name or "")[:60] or None, inbound)
        except RoomFull as error:
            await socket.close(code=4409, reason=str(error))
            return
        await socket.send_json(
            {
                "type": "joined",
                "participant_id": participant.id,
                "format": "s16le",
                "rate": SOCKET_RATE,
                "channels": 1,
                "frame_ms": 20,
            }
        )
        session = BackgroundTasks(f"room {room_id} audio socket")

        async def send() -> None:
            try:
                while True:
                    frame = await participant.track.recv()
                    if isinstance(frame, av.AudioFrame):  # a socket's track is PCM
                        await socket.send_bytes(to_16k(frame))
            except Exception as error:  # the client went away or left: the session ends
                log.debug("room %s audio socket ended: %s", room_id, error)

        session.spawn(send())
        try:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("bytes")
                if data is None:
                    continue  # text messages are ignored; room events are on /events and /ws
                if len(data) > MAX_SOCKET_MESSAGE:
                    await socket.close(code=1009, reason="audio messages are at most 64 KiB")
                    break
                if await charge(len(data)) > 0:
                    await socket.close(code=4429, reason="audio is coming faster than it plays")
                    break
                inbound.push(data)
        except WebSocketDisconnect:
            pass
        finally:
            inbound.end()
            await session.aclose()
            await room.leave(participant.id)

    return router
