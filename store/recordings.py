"""Recordings in the database: every replica serves every recording, and one outlives its room
and the replica that made it.

The audio is stored as it is made: whole Ogg pages, a chunk every few seconds
(``recording_chunks``, each with its offset in the file, so a byte range reads only the
chunks it needs); the room events its transcript is built from go in the same transaction
(``recording_events``). A recorder killed with ``kill -9`` loses the seconds since its last
chunk; what was stored plays (an Ogg stream cut after a page is a shorter stream).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from store.database import Database
from store.tables import recording_chunks, recording_events, recordings

STALE = 30.0  # a recording whose recorder has not stored anything this long was cut short


@dataclass(frozen=True)
class Recording:
    id: str
    room_id: str
    owner: str
    topic: str
    agents: list[str]
    started: float
    ended: float | None
    duration: float
    size: int
    state: str  # recording, finished, failed
    reason: str | None
    heartbeat: float

    def status(self, now: float | None = None) -> str:
        """``interrupted`` for one still marked recording whose recorder stopped storing."""
        now = time.time() if now is None else now
        if self.state == "recording" and now - self.heartbeat > STALE:
            return "interrupted"
        return self.state

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "room": self.room_id,
            "topic": self.topic,
            "agents": self.agents,
            "started": self.started,
            "ended": self.ended,
            "duration": round(self.duration, 3),
            "size": self.size,
            "state": self.status(),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Chunk:
    seq: int
    offset: int
    data: bytes


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    t: float  # seconds into the recording
    body: dict[str, Any]


def _recording(row: sa.Row[Any]) -> Recording:
    m = row._mapping
    return Recording(
        m["id"],
        m["room_id"],
        m["owner"],
        m["topic"],
        list(json.loads(m["agents"])),
        m["started"],
        m["ended"],
        m["duration"],
        m["size"],
        m["state"],
        m["reason"],
        m["heartbeat"],
    )


class RecordingStore:
    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def create(
        self, recording_id: str, room_id: str, owner: str, topic: str, agents: list[str]
    ) -> Recording:
        now = time.time()
        row = {
            "id": recording_id,
            "room_id": room_id,
            "owner": owner,
            "topic": topic,
            "agents": json.dumps(agents),
            "started": now,
            "state": "recording",
            "heartbeat": now,
            "duration": 0.0,
            "size": 0,
        }
        async with self._engine.begin() as connection:
            await connection.execute(recordings.insert().values(**row))
        return Recording(
            recording_id, room_id, owner, topic, agents, now, None, 0.0, 0, "recording", None, now
        )

    async def store(
        self,
        recording_id: str,
        chunk: Chunk | None,
        events: Sequence[StoredEvent],
        duration: float,
        ended: tuple[str, str | None] | None = None,
    ) -> bool:
        """Stores what was recorded since the last call, in one transaction; ``ended``: the
        recording's final state and why. False: the recording was deleted meanwhile."""
        now = time.time()
        values: dict[str, Any] = {"duration": duration, "heartbeat": now}
        if chunk is not None:
            values["size"] = chunk.offset + len(chunk.data)
        if ended is not None:
            values.update(state=ended[0], reason=ended[1], ended=now)
        async with self._engine.begin() as connection:
            update = recordings.update().where(recordings.c.id == recording_id).values(**values)
            if (await connection.execute(update)).rowcount == 0:
                return False
            if chunk is not None and chunk.data:
                await connection.execute(
                    recording_chunks.insert().values(
                        recording_id=recording_id,
                        seq=chunk.seq,
                        offset=chunk.offset,
                        data=chunk.data,
                    )
                )
            if events:
                await connection.execute(
                    recording_events.insert(),
                    [
                        {
                            "recording_id": recording_id,
                            "seq": e.seq,
                            "t": e.t,
                            "body": json.dumps(e.body),
                        }
                        for e in events
                    ],
                )
        return True

    async def get(self, recording_id: str) -> Recording | None:
        query = sa.select(recordings).where(recordings.c.id == recording_id)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _recording(row)

    async def listed(self, owner: str | None = None, room_id: str | None = None) -> list[Recording]:
        """Recordings of ``owner``, or of one room (a room link's holder), newest first."""
        query = sa.select(recordings).order_by(recordings.c.started.desc())
        if owner is not None:
            query = query.where(recordings.c.owner == owner)
        if room_id is not None:
            query = query.where(recordings.c.room_id == room_id)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_recording(row) for row in rows]

    async def read(self, recording_id: str, first: int, last: int) -> bytes:
        """Bytes ``first`` to ``last`` (inclusive) of the recording's audio."""
        c = recording_chunks.c
        query = (
            sa.select(c.offset, c.data)
            .where(c.recording_id == recording_id, c.offset <= last)
            .where(c.offset + sa.func.length(c.data) > first)
            .order_by(c.seq)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        if not rows:
            return b""
        joined = b"".join(bytes(data) for _, data in rows)
        start = first - rows[0][0]
        return joined[start : start + last - first + 1]

    async def events(self, recording_id: str) -> list[StoredEvent]:
        c = recording_events.c
        query = sa.select(c.seq, c.t, c.body).where(c.recording_id == recording_id).order_by(c.seq)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [StoredEvent(seq, t, json.loads(body)) for seq, t, body in rows]

    async def delete(self, recording_id: str) -> bool:
        async with self._engine.begin() as connection:
            gone = await connection.execute(
                recordings.delete().where(recordings.c.id == recording_id)
            )
            for table in (recording_chunks, recording_events):
                await connection.execute(table.delete().where(table.c.recording_id == recording_id))
        return gone.rowcount > 0

    async def older_than(self, started: float) -> list[str]:
        """Recordings that began before ``started`` (epoch s): what retention removes."""
        query = sa.select(recordings.c.id).where(recordings.c.started < started)
        async with self._engine.connect() as connection:
            return [row[0] for row in (await connection.execute(query)).all()]
