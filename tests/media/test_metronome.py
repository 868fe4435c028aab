"""The process's 20 ms beat: rooms tick together, catch up after a lag, skip a stall."""

from __future__ import annotations

import asyncio

import pytest

from media.metronome import STALL, Metronome, beat_time, room_due
from media.pcm import FRAME_SECONDS


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


async def test_a_room_that_fell_behind_catches_up_beat_by_beat() -> None:
    metronome = Metronome()
    ticker = metronome.ticks()
    await anext(ticker)
    beat = metronome.beat
    others = asyncio.create_task(collect(metronome, 20))  # keeps the beat going meanwhile
    await collect_until(metronome, beat + 3)
    assert await anext(ticker) == 1 and metronome.beat >= beat + 3, "no wait: it is behind"
    assert await anext(ticker) == 2, "caught up beat by beat"
    await others
    await ticker.aclose()


def test_a_room_far_behind_skips_to_the_next_beat_instead_of_bursting() -> None:
    stall_beats = round(STALL / FRAME_SECONDS)
    assert room_due(beat=100, due=95) == 95, "a few beats behind: catch up"
    assert room_due(beat=100, due=100 - stall_beats) == 100 - stall_beats
    assert room_due(beat=100, due=99 - stall_beats) == 101, "stalled: the next beat"


def test_the_beat_restarts_from_now_after_an_idle_or_stalled_loop() -> None:
    period = FRAME_SECONDS
    assert beat_time(10.0, 4, 10.09, period) == (10.0, 10.0 + 5 * period), "on time"
    late = 10.0 + 5 * period + STALL / 2
    assert beat_time(10.0, 4, late, period) == (10.0, 10.0 + 5 * period), "late: catch up"
    anchor, due = beat_time(10.0, 4, 30.0, period)  # idle for 20 s
    assert due == pytest.approx(30.0 + period) and anchor == pytest.approx(30.0 - 4 * period)


async def collect_until(metronome: Metronome, beat: int) -> None:
    async for _ in metronome.ticks():
        if metronome.beat >= beat:
            return


async def test_the_timer_stops_when_no_room_waits() -> None:
    metronome = Metronome()
    await collect(metronome, 2)
    await collect(metronome, 1)  # the last waiter's beat fires, nobody asks for another
    assert metronome._timer is None
