"""How soon a person's onset pauses an agent on the wire: the room's barge-in figure.

A pause (a duck, or a hold for a suspected onset) drops every participant's queued frames so
the silence goes out next; the time from the onset to the first of them leaving is the
barge-in latency. A hold is timed from its own start and counted only if speech followed (its
``Duck`` came); a released hold is no barge-in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from server.background import BackgroundTasks
from server.rooms.participants import Participants

Observe = Callable[[float], None]


class PauseTiming:
    def __init__(self, participants: Participants, tasks: BackgroundTasks, observe: Observe):
        self._participants, self._tasks, self._observe = participants, tasks, observe
        self._holds: dict[str, asyncio.Task[float]] = {}  # held turns: their pause's timing

    def held(self, turn_id: str, onset: float) -> None:
        if (timing := self._timed(onset)) is not None:
            self._holds[turn_id] = timing

    def released(self, turn_id: str) -> None:
        self._holds.pop(turn_id, None)

    def ducked(self, turn_id: str, onset: float, paused_now: bool) -> None:
        """A duck: timed from now if it paused the voice, else from the hold before it."""
        timing = self._timed(onset) if paused_now else self._holds.pop(turn_id, None)
        if timing is not None:
            self._tasks.spawn(self._observed(timing))

    def _timed(self, onset: float) -> asyncio.Task[float] | None:
        watchers = [p.track.drop_queued() for p in self._participants]
        return self._tasks.spawn(self._on_wire(onset, watchers)) if watchers else None

    @staticmethod
    async def _on_wire(onset: float, watchers: list[asyncio.Future[float]]) -> float:
        done, pending = await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
        for watcher in pending:
            watcher.cancel()
        return next(iter(done)).result() - onset

    async def _observed(self, timing: asyncio.Task[float]) -> None:
        self._observe(await timing)
