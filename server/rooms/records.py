"""Rooms outlive the process: their definitions (topic, debaters) are kept in the database, so
a restarted server reopens them under the same ids and clients reconnect where they were.

A record is written before the room exists and removed before it closes, each committed before
the call returns; one the database refuses raises ``RecordFailed`` and is not tried again, so
nothing is half made or half deleted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from store.database import Database
from store.tables import rooms
from store.writer import Apply


class RecordFailed(Exception):
    """The room's record could not be written; ``str(error)`` says why."""


@dataclass(frozen=True)
class RoomRecord:
    id: str
    topic: str
    agents: tuple[str, ...]
    created: float


class RoomRecords:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def add(self, room_id: str, topic: str, agents: list[str]) -> None:
        row = {"id": room_id, "topic": topic, "agents": json.dumps(agents), "created": time.time()}

        async def insert(connection: AsyncConnection) -> None:
            await connection.execute(rooms.insert().values(row))

        await self._write(insert, room_id)

    async def remove(self, room_id: str) -> None:
        async def delete(connection: AsyncConnection) -> None:
            await connection.execute(rooms.delete().where(rooms.c.id == room_id))

        await self._write(delete, room_id)

    async def _write(self, apply: Apply, room_id: str) -> None:
        try:
            await self._database.writer.put(apply, key=("room", room_id), retry=False)
        except (SQLAlchemyError, OSError) as error:
            raise RecordFailed(str(getattr(error, "orig", None) or error)) from error

    async def all(self) -> list[RoomRecord]:
        query = sa.select(rooms.c.id, rooms.c.topic, rooms.c.agents, rooms.c.created).order_by(
            rooms.c.created
        )
        async with self._database.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [RoomRecord(r[0], r[1], tuple(json.loads(r[2])), r[3]) for r in rows]
