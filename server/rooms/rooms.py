"""The rooms of this server: create (within limits, on record), find, adopt, delete."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping

from agents.debate.guests import is_url
from agents.floor.floors import Floors
from server.http.errors import NotFound, PodiumError, TooManyRequests, Unavailable
from server.ops.metrics import Metrics
from server.replicas.room_records import RecordFailed, RoomRecord, RoomRecords
from server.rooms.room import Room
from server.rooms.room_setup import RoomSetup
from server.rooms.stats import RoomStats

log = logging.getLogger(__name__)
Guest = dict[str, str]  # an invited agent as room info shows it: display_name, color, card_url
# Invites the agents at card URLs into a reopened room (its id, the URLs, its local debaters):
# their names and descriptions; raises PodiumError saying why one could not be.
Reinvite = Callable[[str, list[str], list[str]], Awaitable[dict[str, Guest]]]


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
        self._deleting: set[str] = set()  # taken off the record, not closed yet
        self._creating = 0
        self.on_close: list[Callable[[str], Awaitable[None]]] = []  # e.g. invited agents go
        self.reinvite: Reinvite | None = None  # a reopened room's agents invited by URL
        self._adopting = asyncio.Lock()

    async def _closed(self, room_id: str) -> None:
        for hook in self.on_close:
            await hook(room_id)

    def check_capacity(self) -> None:
        if len(self._rooms) + self._creating >= self._max_rooms:
            raise TooManyRequests(f"room limit reached ({self._max_rooms}); delete a room first")

    async def create(
        self,
        topic: str,
        agents: list[str] | None,
        owner: str = "",
        invited: Mapping[str, Guest] | None = None,
    ) -> Room:
        """A new room, on record before it exists (no record: 503 and nothing was made);
        ``invited``: agents invited into it by URL (``server.rooms.invites``), recorded by
        their card URL so that a reopened room invites them again."""
        self.check_capacity()
        invited = invited or {}
        names = [s.name for s in self._setup.directory.debaters] + list(invited)
        chosen = [a.lower() for a in agents] if agents else names
        unknown = [a for a in chosen if a not in names]
        if unknown:
            raise NotFound(f"unknown agents: {', '.join(unknown)} (see GET /agents)")
        room_id = uuid.uuid4().hex[:10]
        self._creating += 1  # counted toward the limit while its record is written
        try:
            recorded = [invited[a]["card_url"] if a in invited else a for a in chosen]
            await self._records.add(room_id, topic, recorded, owner)
        except RecordFailed as error:
            raise Unavailable(
                f"the room could not be recorded (database: {error}); try again"
            ) from error
        finally:
            self._creating -= 1
        room = self._open(room_id, topic, chosen, owner)
        room.invited = dict(invited)
        return room

    async def adopt(self, record: RoomRecord) -> Room:
        """Opens a room on record here (a restart, or a take-over from a replica that stopped);
        its people rejoin (the page reconnects by itself), its agents invited by URL are
        invited again (one that cannot be is left out, and the log says why)."""
        async with self._adopting:  # one at a time: a room is opened (and invites) once
            if record.id in self._rooms:
                return self._rooms[record.id]
            return await self._reopen(record)

    async def _reopen(self, record: RoomRecord) -> Room:
        names = {s.name for s in self._setup.directory.debaters}
        local = [a for a in record.agents if a in names]
        urls = [a for a in record.agents if is_url(a)]
        guests: dict[str, Guest] = {}
        if urls and self.reinvite is not None:
            try:
                guests = await self.reinvite(record.id, urls, local)
            except PodiumError as error:
                log.warning("room %s reopened without its invited agents: %s", record.id, error)
        by_url = {guest["card_url"]: name for name, guest in guests.items()}
        agents = [by_url.get(a, a) for a in record.agents if a in names or a in by_url]
        room = self._open(record.id, record.topic, agents or sorted(names), record.owner)
        room.invited = guests
        return room

    async def drop(self, room_id: str) -> None:
        """Closes a room here without touching its record (another replica holds it now)."""
        room = self._rooms.pop(room_id, None)
        if room is not None:
            await room.close()
            self._floors.close(room.context_id)
            await self._closed(room_id)

    def _open(self, room_id: str, topic: str, agents: list[str], owner: str) -> Room:
        floor = self._floors.open(f"room-{room_id}")
        room = Room(room_id, topic, agents, self._setup, floor, RoomStats(self._metrics))
        room.owner = owner
        self._rooms[room.id] = room
        return room

    def get(self, room_id: str) -> Room:
        room = self._rooms.get(room_id)
        if room is None:
            raise NotFound(f"unknown room {room_id!r}")
        return room

    def has(self, room_id: str) -> bool:
        return room_id in self._rooms

    def deleting(self, room_id: str) -> bool:
        """A delete of this room is under way (its record may already be gone)."""
        return room_id in self._deleting

    def all(self) -> list[Room]:
        return list(self._rooms.values())

    async def delete(self, room_id: str) -> None:
        """Off the record first (no removal: 503 and the room goes on), then closed."""
        room = self.get(room_id)
        self._deleting.add(room_id)
        try:
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
            await self._closed(room_id)
        finally:
            self._deleting.discard(room_id)

    async def aclose(self) -> None:
        """Server shutdown: rooms close but stay on record, to reopen at the next start (or on
        another replica)."""
        for room_id in list(self._rooms):
            await self.drop(room_id)
