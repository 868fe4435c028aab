"""Live text of every turn, by task id: what plain text streams and rooms follow.

The agent service appends each delivered chunk; readers follow from a character offset,
which doubles as the SSE event id, so a reconnect with ``Last-Event-ID`` resumes exactly.
Finished logs are kept for a while (bounded), after which readers fall back to the task store.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field


@dataclass
class TurnLog:
    task_id: str
    agent: str
    context_id: str
    owner: str = ""  # the principal the turn runs for
    text: str = ""
    state: str | None = None  # terminal state name ("completed", "canceled", "failed")
    reason: str | None = None
    ended: Callable[[TurnLog], None] | None = field(default=None, repr=False)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition, repr=False)

    @property
    def finished(self) -> bool:
        return self.state is not None

    async def append(self, chunk: str) -> None:
        if not chunk or self.finished:
            return
        async with self._changed:
            self.text += chunk
            self._changed.notify_all()

    async def finish(self, state: str, reason: str | None = None) -> None:
        if self.finished:
            return
        async with self._changed:
            self.state = state
            self.reason = reason
            self._changed.notify_all()
        if self.ended is not None:
            self.ended(self)

    async def follow(self, offset: int = 0) -> AsyncIterator[tuple[int, str]]:
        """Yields ``(end_offset, chunk)`` from ``offset`` on until the turn finishes."""
        while True:
            async with self._changed:

                def ready(reached: int = offset) -> bool:
                    return len(self.text) > reached or self.finished

                await self._changed.wait_for(ready)
                chunk = self.text[offset:]
                done = self.finished
            if chunk:
                offset += len(chunk)
                yield offset, chunk
            if done and offset >= len(self.text):
                return


class TurnLogs:
    """Registry of turn logs; keeps every running log and the ``keep`` most recent finished."""

    def __init__(self, keep: int = 2000) -> None:
        self._logs: OrderedDict[str, TurnLog] = OrderedDict()
        self._keep = keep
        self.on_open: list[Callable[[TurnLog], None]] = []  # called as each turn starts
        self.on_end: list[Callable[[TurnLog], None]] = []  # ... and once it ends

    def open(self, task_id: str, agent: str, context_id: str, owner: str = "") -> TurnLog:
        log = self._logs.get(task_id)
        if log is None or log.finished:
            log = TurnLog(task_id, agent, context_id, owner, ended=self._ended)
            self._logs[task_id] = log
            for hook in self.on_open:
                hook(log)
        self._trim()
        return log

    def _ended(self, log: TurnLog) -> None:
        for hook in self.on_end:
            hook(log)

    def get(self, task_id: str) -> TurnLog | None:
        return self._logs.get(task_id)

    def owner(self, task_id: str) -> str:
        """Who the turn ``task_id`` runs for ("" if unknown)."""
        log = self._logs.get(task_id)
        return log.owner if log is not None else ""

    def running(self) -> list[TurnLog]:
        return [log for log in self._logs.values() if not log.finished]

    def _trim(self) -> None:
        """Forgets the oldest finished logs past ``keep``; stops at the first it needs
        (amortized O(1): the oldest logs are the finished ones)."""
        excess = len(self._logs) - self._keep
        if excess <= 0:
            return
        stale: list[str] = []
        for key, log in self._logs.items():
            if log.finished:
                stale.append(key)
                if len(stale) >= excess:
                    break
        for key in stale:
            del self._logs[key]
