"""Conversation history in the ``utterances`` table, written through the ``GroupWriter``."""

from __future__ import annotations

import time

import sqlalchemy as sa

from agents.brains.brain import Utterance
from store.commit import Rows
from store.database import Database
from store.tables import utterances


class DatabaseHistory:
    """``agents.transcript.HistoryStore`` on the database."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._insert = utterances.insert()  # built once; each append binds its row

    @property
    def cacheable(self) -> bool:
        return not self._database.shared

    async def load(self, context_id: str, limit: int) -> list[Utterance]:
        await self._database.writer.flushed()  # what was appended is read back
        query = (
            sa.select(utterances.c.speaker, utterances.c.text, utterances.c.interrupted)
            .where(utterances.c.context_id == context_id)
            .order_by(utterances.c.seq.desc())
            .limit(limit)
        )
        async with self._database.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [Utterance(speaker=s, text=t, interrupted=bool(i)) for s, t, i in reversed(rows)]

    def append(self, context_id: str, utterance: Utterance, task_id: str | None) -> None:
        row = {
            "context_id": context_id,
            "speaker": utterance.speaker,
            "text": utterance.text,
            "interrupted": int(utterance.interrupted),
            "task_id": task_id,
            "created": time.time(),
        }
        self._database.writer.put(Rows(self._insert, lambda: row))
