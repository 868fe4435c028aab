"""What was said in each conversation (A2A context): the history every brain call sees.

Kept by a ``HistoryStore`` (the database, so a follow-up after a restart still sees the
earlier turns) behind a bounded cache of recent contexts. Only words that were delivered are
recorded (an interrupted turn keeps just its spoken part).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from typing import Protocol

from agents.brains.brain import Utterance

CONTEXTS = 512  # contexts whose recent history stays in memory
KEEP = 80  # utterances kept in memory per context (brains see the last 40)


class HistoryStore(Protocol):
    @property
    def cacheable(self) -> bool:
        """False when another process may append to the same contexts (replicas)."""

    async def load(self, context_id: str, limit: int) -> list[Utterance]:
        """The last ``limit`` utterances of a context, oldest first, appends included."""

    def append(self, context_id: str, utterance: Utterance, task_id: str | None) -> None:
        """Queues an utterance; durable no later than the task's terminal state."""


class MemoryHistory:
    """History that lives as long as the process (tests, a server without a database)."""

    cacheable = False

    def __init__(self) -> None:
        self._contexts: dict[str, list[Utterance]] = {}

    async def load(self, context_id: str, limit: int) -> list[Utterance]:
        return self._contexts.get(context_id, [])[-limit:]

    def append(self, context_id: str, utterance: Utterance, task_id: str | None) -> None:
        self._contexts.setdefault(context_id, []).append(utterance)


class Transcript:
    """Append-only per-context history with a bounded cache in front of its store."""

    def __init__(self, store: HistoryStore | None = None, contexts: int = CONTEXTS) -> None:
        self._store: HistoryStore = store or MemoryHistory()
        self._cache: OrderedDict[str, list[Utterance]] = OrderedDict()
        self._contexts = contexts
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def history(self, context_id: str, limit: int = 40) -> tuple[Utterance, ...]:
        if not self._store.cacheable:
            return tuple(await self._store.load(context_id, limit))
        lock = self._locks.setdefault(context_id, asyncio.Lock())
        async with lock:  # appends meanwhile land in the cache entry made here
            cached = self._cache.get(context_id)
            if cached is None:
                cached = await self._store.load(context_id, KEEP)
                self._remember(context_id, cached)
            else:
                self._cache.move_to_end(context_id)
            return tuple(cached[-limit:])

    async def append(
        self, context_id: str, utterance: Utterance, task_id: str | None = None
    ) -> None:
        if not utterance.text.strip():
            return
        lock = self._locks.get(context_id)
        if lock is not None and lock.locked():
            async with lock:  # a load is under way: let it finish, then add to what it read
                pass
        self._store.append(context_id, utterance, task_id)
        cached = self._cache.get(context_id)
        if cached is not None:
            cached.append(utterance)
            del cached[:-KEEP]

    def _remember(self, context_id: str, utterances: list[Utterance]) -> None:
        self._cache[context_id] = list(utterances[-KEEP:])
        while len(self._cache) > self._contexts:
            self._cache.popitem(last=False)
