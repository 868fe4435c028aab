"""Which replica holds each room: this one's leases, renewed by a heartbeat, and rooms taken
over from replicas that stopped.

Every ``lease / 3`` seconds this replica renews the lease of the rooms it holds and takes over
any room whose holder's lease ran out (a replica killed, or cut off). A room this replica held
but that the database now gives to another (it was away longer than the lease) is closed here.
With a database no other process uses (SQLite), every room on record is this process's.
"""

from __future__ import annotations

import asyncio
import logging
import time

from server.replicas.room_records import RecordFailed, RoomRecord, RoomRecords
from server.rooms.rooms import Rooms

log = logging.getLogger(__name__)


class RoomLeases:
    def __init__(self, rooms: Rooms, records: RoomRecords, lease: float, shared: bool) -> None:
        self._rooms = rooms
        self._records = records
        self.lease = lease
        self.shared = shared

    @property
    def replica(self) -> str:
        return self._records.replica

    async def start(self) -> int:
        """Opens the rooms this replica may hold now; returns how many."""
        for record in await self._records.all():
            if not self.shared or not record.held(time.time(), self.lease):
                await self._take(record.id, force=not self.shared)
            elif record.replica == self.replica:  # this replica, restarted
                await self._take(record.id)
        return len(self._rooms.all())

    async def run(self) -> None:
        """The heartbeat: renews, takes over, lets go. Runs until canceled."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await self.beat()
            except (RecordFailed, OSError) as error:
                log.warning("room heartbeat failed (the database is away?): %s", error)

    async def beat(self) -> None:
        held = [room.id for room in self._rooms.all() if not self._rooms.deleting(room.id)]
        kept = await self._records.beat(held)
        for room_id in set(held) - kept:
            if self._rooms.deleting(room_id) or not self._rooms.has(room_id):
                continue  # deleted here meanwhile: its delete closes it
            log.warning("room %s is held elsewhere now (or was deleted): closing it here", room_id)
            await self._rooms.drop(room_id)
        if self.shared:
            now = time.time()
            for record in await self._records.all():
                if not record.held(now, self.lease) and record.id not in kept:
                    await self._take(record.id)

    async def _take(self, room_id: str, force: bool = False) -> RoomRecord | None:
        record = await self._records.claim(room_id, self.lease, force=force)
        if record is not None:
            await self._rooms.adopt(record)
            log.info("room %s is held by this replica", room_id)
        return record

    async def holder(self, room_id: str) -> str | None:
        """The URL of the other live replica holding ``room_id``; None when it is here (taken
        over at once if its holder stopped) or not on record at all."""
        if self._rooms.has(room_id) or not self.shared:
            return None
        record = await self._records.get(room_id)
        if record is None:
            return None
        if record.held(time.time(), self.lease) and record.replica != self.replica:
            return record.replica
        await self._take(room_id)
        return None

    async def others(self) -> dict[str, list[RoomRecord]]:
        """Rooms held by other live replicas, by replica."""
        if not self.shared:
            return {}
        now = time.time()
        found: dict[str, list[RoomRecord]] = {}
        for record in await self._records.all():
            if record.replica and record.replica != self.replica and record.held(now, self.lease):
                found.setdefault(record.replica, []).append(record)
        return found

    async def aclose(self) -> None:
        """A clean stop: this replica's rooms are free for another to take at once."""
        try:
            await self._records.release([room.id for room in self._rooms.all()])
        except RecordFailed as error:
            log.warning("could not release this replica's rooms: %s", error)
