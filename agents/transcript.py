"""What was said in each conversation (A2A context): the history every brain call sees.

Persisted in the same SQLite file as the tasks, so a follow-up after a restart still sees
the earlier turns. Only words that were delivered are recorded (an interrupted turn keeps
just its spoken part).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from agents.brain import Utterance

_SCHEMA = """
CREATE TABLE IF NOT EXISTS utterances (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    context_id TEXT NOT NULL,
    speaker TEXT NOT NULL,
    text TEXT NOT NULL,
    interrupted INTEGER NOT NULL DEFAULT 0,
    task_id TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS utterances_context ON utterances (context_id, seq);
"""


class Transcript:
    """Append-only per-context history, cached in memory and written through to SQLite."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._cache: dict[str, list[Utterance]] = {}
        self._lock = asyncio.Lock()
        if path is not None:
            with sqlite3.connect(path) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)

    async def history(self, context_id: str, limit: int = 40) -> tuple[Utterance, ...]:
        async with self._lock:
            if context_id not in self._cache:
                self._cache[context_id] = await asyncio.to_thread(self._load, context_id)
            return tuple(self._cache[context_id][-limit:])

    async def append(
        self, context_id: str, utterance: Utterance, task_id: str | None = None
    ) -> None:
        if not utterance.text.strip():
            return
        async with self._lock:
            if context_id not in self._cache:
                self._cache[context_id] = await asyncio.to_thread(self._load, context_id)
            self._cache[context_id].append(utterance)
            if self._path is not None:
                await asyncio.to_thread(self._insert, context_id, utterance, task_id)

    def _load(self, context_id: str) -> list[Utterance]:
        if self._path is None:
            return []
        with sqlite3.connect(self._path) as db:
            rows = db.execute(
                "SELECT speaker, text, interrupted FROM utterances"
                " WHERE context_id = ? ORDER BY seq",
                (context_id,),
            ).fetchall()
        return [Utterance(speaker=s, text=t, interrupted=bool(i)) for s, t, i in rows]

    def _insert(self, context_id: str, utterance: Utterance, task_id: str | None) -> None:
        assert self._path is not None
        with sqlite3.connect(self._path) as db:
            db.execute(
                "INSERT INTO utterances (context_id, speaker, text, interrupted, task_id, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    context_id,
                    utterance.speaker,
                    utterance.text,
                    int(utterance.interrupted),
                    task_id,
                    time.time(),
                ),
            )
