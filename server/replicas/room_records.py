"""Rooms on record: their definitions (topic, debaters) and which replica holds each.

A restarted server reopens its rooms under the same ids, and replicas sharing a database know
where every room lives: each room names the replica that holds it (its internal URL) and that
replica's last heartbeat. A room whose heartbeat is older than the lease is free to be taken
over; a take-over is one conditional update, so exactly one replica wins it.

A record is written before the room exists and removed before it closes, each committed before
the call returns; one the database refuses raises ``RecordFailed`` and is not tried again, so
nothing is half made or half deleted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from store.commit import Apply
from store.database import Database
from store.tables import rooms


class RecordFailed(Exception):
    """The room's record could not be written; ``str(error)`` says why."""


@dataclass(frozen=True)
class RoomRecord:
    id: str
    topic: str
    agents: tuple[str, ...]
    created: float
    replica: str | None = None
    heartbeat: float = 0.0
    owner: str = ""  # the principal that created it

    def held(self, now: float, lease: float) -> bool:
        """Whether its replica beat recently enough to be taken as alive."""
        return self.replica is not None and now - self.heartbeat < lease


_COLUMNS = (
    rooms.c.id,
    rooms.c.topic,
    rooms.c.agents,
    rooms.c.created,
    rooms.c.replica,
    rooms.c.heartbeat,
    rooms.c.owner,
)


def _record(row: Any) -> RoomRecord:  # a row of _COLUMNS
    agents = tuple(json.loads(row[2]))
    return RoomRecord(row[0], row[1], agents, row[3], row[4], row[5] or 0.0, row[6] or "")


class RoomRecords:
    def __init__(self, database: Database, replica: str) -> None:
        self._database = database
        self.replica = replica  # this process's internal URL

    async def add(self, room_id: str, topic: str, agents: list[str], owner: str = "") -> None:
        now = time.time()
        row = {
            "id": room_id,
            "topic": topic,
            "agents": json.dumps(agents),
            "created": now,
            "replica": self.replica,
            "heartbeat": now,
            "owner": owner,
        }

        def insert(connection: Connection) -> None:
            connection.execute(rooms.insert().values(row))

        await self._write(insert)

    async def remove(self, room_id: str) -> None:
        def delete(connection: Connection) -> None:
            connection.execute(rooms.delete().where(rooms.c.id == room_id))

        await self._write(delete)

    async def beat(self, held: list[str]) -> set[str]:
        """Renews this replica's lease on ``held``; returns those still on record as its own
        (a room missing from the answer was deleted, or taken over while this one was away)."""
        now = time.time()
        kept: set[str] = set()

        def renew(connection: Connection) -> None:
            if not held:
                return
            mine = (rooms.c.replica == self.replica) & rooms.c.id.in_(held)
            connection.execute(rooms.update().where(mine).values(heartbeat=now))
            found = connection.execute(sa.select(rooms.c.id).where(mine))
            kept.update(r[0] for r in found)

        await self._write(renew)
        return kept

    async def claim(self, room_id: str, lease: float, force: bool = False) -> RoomRecord | None:
        """Takes ``room_id`` over if its holder's lease ran out (or ``force``: this is the only
        process); returns its record when this replica now holds it."""
        now = time.time()
        won: list[RoomRecord] = []

        def take(connection: Connection) -> None:
            free: sa.ColumnElement[bool] = sa.true()
            if not force:
                free = (rooms.c.replica == self.replica) | (rooms.c.heartbeat < now - lease)
            update = rooms.update().where((rooms.c.id == room_id) & free)
            result = connection.execute(update.values(replica=self.replica, heartbeat=now))
            if result.rowcount == 1:
                found = connection.execute(sa.select(*_COLUMNS).where(rooms.c.id == room_id))
                won.extend(_record(r) for r in found)

        await self._write(take)
        return won[0] if won else None

    async def release(self, held: list[str]) -> None:
        """Gives ``held`` up at once (a clean shutdown): another replica may take them now."""
        if not held:
            return

        def free(connection: Connection) -> None:
            mine = (rooms.c.replica == self.replica) & rooms.c.id.in_(held)
            connection.execute(rooms.update().where(mine).values(heartbeat=0.0))

        await self._write(free)

    async def _write(self, apply: Apply) -> None:
        try:
            await self._database.writer.put(apply, retry=False)
        except (SQLAlchemyError, OSError) as error:
            raise RecordFailed(str(getattr(error, "orig", None) or error)) from error

    async def get(self, room_id: str) -> RoomRecord | None:
        query = sa.select(*_COLUMNS).where(rooms.c.id == room_id)
        async with self._database.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return _record(row) if row is not None else None

    async def all(self) -> list[RoomRecord]:
        query = sa.select(*_COLUMNS).order_by(rooms.c.created)
        async with self._database.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_record(r) for r in rows]
