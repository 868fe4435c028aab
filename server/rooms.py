"""The room registry (limits, engines) and the voice delivery it lends to agent executors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from agents.executor import ImmediateDelivery
from agents.floor import Floors
from agents.service import AgentDirectory
from media.stt import SpeechToText
from media.tts import TextToSpeech
from media.vad import VadConfig
from server.errors import NotFound, TooManyRequests
from server.metrics import Metrics
from server.room import Room
from server.room_records import RoomRecords
from server.room_stats import RoomStats


class Rooms:
    def __init__(
        self,
        directory: AgentDirectory,
        stt: SpeechToText,
        tts: TextToSpeech,
        vad: VadConfig,
        jitter_packets: int,
        max_rooms: int,
        max_participants: int,
        floors: Floors,
        metrics: Metrics | None = None,
        records: RoomRecords | None = None,
    ) -> None:
        self._records = records or RoomRecords(None)
        self._floors = floors
        self._metrics = metrics
        self._directory = directory
        self._stt = stt
        self._tts = tts
        self._vad = vad
        self._jitter = jitter_packets
        self._max_rooms = max_rooms
        self._max_participants = max_participants
        self._rooms: dict[str, Room] = {}

    def create(self, topic: str, agents: list[str] | None) -> Room:
        if len(self._rooms) >= self._max_rooms:
            raise TooManyRequests(f"room limit reached ({self._max_rooms}); delete a room first")
        names = [s.name for s in self._directory.debaters]
        chosen = [a.lower() for a in agents] if agents else names
        unknown = [a for a in chosen if a not in names]
        if unknown:
            raise NotFound(f"unknown agents: {', '.join(unknown)} (see GET /agents)")
        room = self._open(uuid.uuid4().hex[:10], topic, chosen)
        self._records.add(room.id, topic, chosen)
        return room

    def restore(self) -> int:
        """Reopens the rooms a previous process left open (without their participants)."""
        names = {s.name for s in self._directory.debaters}
        for record in self._records.all():
            agents = [a for a in record.agents if a in names] or sorted(names)
            self._open(record.id, record.topic, agents)
        return len(self._rooms)

    def _open(self, room_id: str, topic: str, chosen: list[str]) -> Room:
        room = Room(
            room_id,
            topic,
            chosen,
            self._directory,
            self._stt,
            self._tts,
            self._vad,
            self._jitter,
            self._max_participants,
            self._floors.open(f"room-{room_id}"),
            RoomStats(self._metrics),
        )
        self._rooms[room.id] = room
        return room

    def get(self, room_id: str) -> Room:
        room = self._rooms.get(room_id)
        if room is None:
            raise NotFound(f"unknown room {room_id!r}")
        return room

    def all(self) -> list[Room]:
        return list(self._rooms.values())

    async def delete(self, room_id: str) -> None:
        room = self.get(room_id)
        del self._rooms[room_id]
        self._records.remove(room_id)
        await room.close()
        self._floors.close(room.context_id)

    async def aclose(self) -> None:
        """Server shutdown: rooms close but stay on record, to reopen at the next start."""
        for room_id in list(self._rooms):
            room = self._rooms.pop(room_id)
            await room.close()
            self._floors.close(room.context_id)
        self._records.close()


class RoomDelivery:
    """Turns that belong to a room (``room`` in metadata) are spoken; others pass through."""

    def __init__(self, rooms: Rooms) -> None:
        self._rooms = rooms
        self._text = ImmediateDelivery()

    def deliver(
        self, agent: str, chunks: AsyncIterator[str], task_id: str, meta: dict[str, Any]
    ) -> AsyncIterator[str]:
        room_id = meta.get("room")
        if not room_id:
            return self._text.deliver(agent, chunks, task_id, meta)
        try:
            room = self._rooms.get(str(room_id))
        except NotFound:
            return self._text.deliver(agent, chunks, task_id, meta)
        return room.speak(agent, task_id, chunks)

    def cut(self, task_id: str, trail: float, kind: str | None) -> None:
        for room in self._rooms.all():
            room.cut(task_id, trail, kind)
