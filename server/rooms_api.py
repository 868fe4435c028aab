"""Voice room routes: create/list/get/delete, SDP offer → answer, debate, say, live events."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Literal

import av
import httpx
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from media.peer import BadOffer
from media.socket_audio import SOCKET_RATE, PcmInTrack, to_16k
from server.errors import BadRequest, NotFound
from server.rooms.events import EVENT_TYPES
from server.rooms.forward import FORWARDED
from server.rooms.leases import RoomLeases
from server.rooms.participants import RoomFull
from server.rooms.records import RoomRecord
from server.rooms.registry import Rooms
from server.task_owner import TaskOwner

log = logging.getLogger(__name__)
MAX_SOCKET_MESSAGE = 64 * 1024


async def _listed_by(
    http: httpx.AsyncClient, replica: str, records: list[RoomRecord]
) -> list[dict[str, object]]:
    """The rooms another replica holds, as it lists them (as on record if it does not answer)."""
    try:
        response = await http.get(
            f"{replica.rstrip('/')}/rooms",
            params={"local": "true"},
            headers={FORWARDED: "1"},
            timeout=2.0,
        )
        if response.status_code == 200:
            return list(response.json())
    except (httpx.HTTPError, ValueError) as error:
        log.warning("replica %s did not list its rooms: %s", replica, error)
    return [
        {"id": r.id, "topic": r.topic, "agents": list(r.agents), "replica": replica}
        for r in records
    ]


class CreateRoom(BaseModel):
    topic: str = Field(min_length=1, max_length=500)
    agents: list[str] | None = None
    debate: bool = False
    rounds: int | None = Field(default=None, ge=1, le=20)
    interruptions: int | None = Field(default=None, ge=0, le=50, description="agent cut-ins")


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


def rooms_router(rooms: Rooms, leases: RoomLeases, http: httpx.AsyncClient) -> APIRouter:
    router = APIRouter(prefix="/rooms", tags=["Voice rooms"])

    @router.post("", status_code=201)
    async def create(body: CreateRoom) -> JSONResponse:
        room = await rooms.create(body.topic, body.agents)
        if body.debate:
            await room.start_debate(body.rounds, body.interruptions)
        return JSONResponse(room.info(), status_code=201)

    @router.get("")
    async def list_rooms(local: bool = False) -> list[dict[str, object]]:
        """Every room of the service (``local``: only those this replica holds)."""
        listed = [{**room.info(), "replica": leases.replica} for room in rooms.all()]
        if not local:
            for replica, records in (await leases.others()).items():
                listed += await _listed_by(http, replica, records)
        return listed

    @router.get("/event-types")
    async def event_types() -> list[str]:
        """Every event type a room publishes (on /events and /ws)."""
        return list(EVENT_TYPES)

    @router.get("/{room_id}")
    async def get(room_id: str) -> dict[str, object]:
        return rooms.get(room_id).info()

    @router.delete("/{room_id}", status_code=204)
    async def delete(room_id: str) -> None:
        await rooms.delete(room_id)

    @router.post("/{room_id}/offer")
    async def offer(room_id: str, body: Offer) -> dict[str, str]:
        room = rooms.get(room_id)
        if "m=audio" not in body.sdp:
            raise BadRequest("the offer has no audio media section (m=audio)")
        try:
            sdp, participant_id = await room.join(body.sdp, body.type, body.role, body.name)
        except BadOffer as error:
            raise BadRequest(str(error)) from error
        return {"sdp": sdp, "type": "answer", "participant_id": participant_id}

    @router.delete("/{room_id}/participants/{participant_id}", status_code=204)
    async def leave(room_id: str, participant_id: str) -> None:
        await rooms.get(room_id).leave(participant_id)

    @router.post("/{room_id}/debate", status_code=202)
    async def debate(room_id: str, body: StartDebate | None = None) -> dict[str, object]:
        room = rooms.get(room_id)
        body = body or StartDebate()
        await room.start_debate(body.rounds, body.interruptions)
        return room.info()

    @router.post("/{room_id}/say", status_code=202)
    async def say(room_id: str, body: Say) -> dict[str, object]:
        """The text fallback: a typed message becomes a turn in the room."""
        agent = await rooms.get(room_id).say(body.text, body.name)
        return {"agent": agent}

    @router.get("/{room_id}/events")
    async def events(room_id: str) -> EventSourceResponse:
        room = rooms.get(room_id)

        async def stream() -> AsyncIterator[ServerSentEvent]:
            async for event in room.subscribe():  # unnamed: ``onmessage`` gets every type
                yield ServerSentEvent(data=json.dumps(event))

        return EventSourceResponse(stream(), ping=15, sep="\n")

    @router.websocket("/{room_id}/ws")
    async def websocket(socket: WebSocket, room_id: str) -> None:
        try:
            room = rooms.get(room_id)
        except NotFound as error:
            await socket.accept()  # a close before accepting would be a bare HTTP 403
            await socket.close(code=4404, reason=str(error))
            return
        await socket.accept()
        session = TaskOwner(f"room {room_id} event socket")

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
        try:
            room = rooms.get(room_id)
        except NotFound as error:
            await socket.accept()  # a close before accepting would be a bare HTTP 403
            await socket.close(code=4404, reason=str(error))
            return
        await socket.accept()
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
        session = TaskOwner(f"room {room_id} audio socket")

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
                inbound.push(data)
        except WebSocketDisconnect:
            pass
        finally:
            inbound.end()
            await session.aclose()
            await room.leave(participant.id)

    return router
