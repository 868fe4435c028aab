"""The process's 20 ms beat: rooms tick together, catch up after a lag, skip a stall."""

from __future__ import annotations

import asyncio
import time

from media.metronome import STALL, Metronome


async def collect(metronome: Metronome, count: int) -> list[tuple[int, int, float]]:
    """(tick, beat, loop time) of ``count`` ticks."""
    loop = asyncio.get_running_loop()
    seen = []
    async for tick in metronome.ticks():
        seen.append((tick, metronome.beat, loop.time()))
        if len(seen) == count:
            return seen
    raise AssertionError("the clock ended")


async def test_rooms_tick_every_20_ms_on_the_same_beats() -> None:
    metronome = Metronome()
    first, second = await asyncio.gather(collect(metronome, 11), collect(metronome, 11))
    assert [t for t, _, _ in first] == list(range(11))
    assert [b for _, b, _ in first] == [b for _, b, _ in second], "one wake-up for both"
    assert 0.19 <= first[-1][2] - first[0][2] <= 0.3


async def test_a_room_that_fell_behind_catches_up_and_one_that_stalled_skips_ahead() -> None:
    metronome = Metronome()
    ticker = metronome.ticks()
    await anext(ticker)
    beat = metronome.beat
    others = asyncio.create_task(collect(metronome, 20))  # keeps the beat going meanwhile
    await collect_until(metronome, beat + 3)
    assert await anext(ticker) == 1 and metronome.beat >= beat + 3, "no wait: it is behind"
    assert await anext(ticker) == 2, "caught up beat by beat"
    await others
    time.sleep(STALL + 0.1)  # noqa: ASYNC251 - the case under test: a blocked loop
    before = metronome.beat
    await anext(ticker)
    await anext(ticker)
    assert metronome.beat - before <= 3, "after a stall the beat restarts instead of bursting"
    await ticker.aclose()


async def collect_until(metronome: Metronome, beat: int) -> None:
    async for _ in metronome.ticks():
        if metronome.beat >= beat:
            return


async def test_the_timer_stops_when_no_room_waits() -> None:
    metronome = Metronome()
    await collect(metronome, 2)
    await collect(metronome, 1)  # the last waiter's beat fires, nobody asks for another
    assert metronome._timer is None
