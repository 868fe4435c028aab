"""Rooms outlive the process: their definitions (topic, debaters) are kept in SQLite, so a
restarted server reopens them under the same ids and clients reconnect where they were."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    agents TEXT NOT NULL,
    created REAL NOT NULL
)
"""


@dataclass(frozen=True)
class RoomRecord:
    id: str
    topic: str
    agents: tuple[str, ...]
    created: float


class RoomRecords:
    def __init__(self, path: Path | None) -> None:
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._db.execute(_SCHEMA)
        self._db.commit()

    def add(self, room_id: str, topic: str, agents: list[str]) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO rooms (id, topic, agents, created) VALUES (?, ?, ?, ?)",
                (room_id, topic, json.dumps(agents), time.time()),
            )

    def remove(self, room_id: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM rooms WHERE id = ?", (room_id,))

    def all(self) -> list[RoomRecord]:
        rows = self._db.execute("SELECT id, topic, agents, created FROM rooms ORDER BY created")
        return [RoomRecord(r[0], r[1], tuple(json.loads(r[2])), r[3]) for r in rows]

    def close(self) -> None:
        self._db.close()
