"""One 20 ms beat for every room of a process.

Each room mixes one frame per 20 ms. With a clock of its own per room, the event loop wakes
once per room per frame, at staggered times, and every wake-up costs a system call, a
context switch and a pass of the loop, however little it does. The metronome is one timer:
at each beat it wakes every room waiting for it, in one pass.

``ticks()`` is a room's clock: it yields 0, 1, 2, ... once per beat. A room that falls behind
(its work took longer than a beat) catches up at once, beat by beat, as a clock of its own
would; after a stall of more than ``STALL`` it skips ahead instead of bursting. The count
goes on either way (it stamps the room's packets). The timer runs only while some room
waits: an idle server does not wake up 50 times a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from media.pcm import FRAME_SECONDS

STALL = 0.2  # seconds behind after which a clock skips ahead
_STALL_BEATS = round(STALL / FRAME_SECONDS)


def room_due(beat: int, due: int) -> int:
    """The beat a room's next tick waits for: ``due``, or the next beat when the room fell
    more than ``STALL`` behind (a skip ahead, not a burst). Pure."""
    return beat + 1 if beat - due > _STALL_BEATS else due


def beat_time(anchor: float, beat: int, now: float, period: float) -> tuple[float, float]:
    """(anchor, loop time of beat ``beat + 1``): on the current anchor, or, when that time
    is more than ``STALL`` past (the timer was idle or the loop stalled), re-anchored so the
    next beat is one period from ``now``. Pure."""
    due = anchor + (beat + 1) * period
    if now - due > STALL:
        anchor = now - beat * period
        due = anchor + (beat + 1) * period
    return anchor, due


class Metronome:
    def __init__(self, period: float = FRAME_SECONDS) -> None:
        self._period = period
        self.beat = 0  # beats so far
        self._anchor = 0.0  # loop time of beat 0
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the timer's
        self._waiting: list[asyncio.Future[None]] = []

    async def ticks(self) -> AsyncIterator[int]:
        """Yields 0, 1, 2, ... one per beat, from the next beat on."""
        tick, due = 0, self.beat + 1
        while True:
            due = room_due(self.beat, due)
            while self.beat < due:
                await self._next_beat()
            yield tick
            tick, due = tick + 1, due + 1

    async def _next_beat(self) -> None:
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiting.append(waiter)
        if self._timer is None or self._loop is not loop:
            self._schedule(loop)
        await waiter  # a waiter of its own: cancelling one room cancels nothing shared

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self._anchor, due = beat_time(self._anchor, self.beat, loop.time(), self._period)
        self._timer, self._loop = loop.call_at(due, self._on_beat), loop

    def _on_beat(self) -> None:
        self._timer = None
        self.beat += 1
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            if not waiter.done():
                waiter.set_result(None)
        # Whoever waits for the next beat schedules it (so the timer stops with the rooms).
