"""The rooms of this server: create (within limits, on record), find, restore, delete."""

from __future__ import annotations

import uuid

from agents.floor import Floors
from server.errors import NotFound, TooManyRequests, Unavailable
from server.metrics import Metrics
from server.rooms.records import RecordFailed, RoomRecords
from server.rooms.room import Room
from server.rooms.setup import RoomSetup
from server.rooms.stats import RoomStats


class Rooms:
    def __init__(
        self,
        setup: RoomSetup,
        floors: Floors,
        max_rooms: int,
        records: RoomRecords,
        metrics: Metrics | None = None,
    ) -> None:
        self._setup = setup
        self._floors = floors
        self._max_rooms = max_rooms
        self._metrics = metrics
        self._records = records
        self._rooms: dict[str, Room] = {}
        self._creating = 0

    async def create(self, topic: str, agents: list[str] | None) -> Room:
        """A new room, on record before it exists (no record: 503 and nothing was made)."""
        if len(self._rooms) + self._creating >= self._max_rooms:
            raise TooManyRequests(f"room limit reached ({self._max_rooms}); delete a room first")
        names = [s.name for s in self._setup.directory.debaters]
        chosen = [a.lower() for a in agents] if agents else names
        unknown = [a for a in chosen if a not in names]
        if unknown:
            raise NotFound(f"unknown agents: {', '.join(unknown)} (see GET /agents)")
        room_id = uuid.uuid4().hex[:10]
        self._creating += 1  # counted toward the limit while its record is written
        try:
            await self._records.add(room_id, topic, chosen)
        except RecordFailed as error:
            raise Unavailable(
                f"the room could not be recorded (database: {error}); try again"
            ) from error
        finally:
            self._creating -= 1
        return self._open(room_id, topic, chosen)

    async def restore(self) -> int:
        """Reopens the rooms a previous process left open (without their participants)."""
        names = {s.name for s in self._setup.directory.debaters}
        for record in await self._records.all():
            agents = [a for a in record.agents if a in names] or sorted(names)
            self._open(record.id, record.topic, agents)
        return len(self._rooms)

    def _open(self, room_id: str, topic: str, agents: list[str]) -> Room:
        floor = self._floors.open(f"room-{room_id}")
        room = Room(room_id, topic, agents, self._setup, floor, RoomStats(self._metrics))
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
        """Off the record first (no removal: 503 and the room goes on), then closed."""
        room = self.get(room_id)
        try:
            await self._records.remove(room_id)
        except RecordFailed as error:
            raise Unavailable(
                f"the room could not be deleted (database: {error}); try again"
            ) from error
        if self._rooms.pop(room_id, None) is None:
            return  # a concurrent delete got there first
        await room.close()
        self._floors.close(room.context_id)

    async def aclose(self) -> None:
        """Server shutdown: rooms close but stay on record, to reopen at the next start."""
        for room_id in list(self._rooms):
            room = self._rooms.pop(room_id)
            await room.close()
            self._floors.close(room.context_id)
