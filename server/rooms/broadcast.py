"""A room's live broadcast (HLS): started by the first listener who asks, stopped when nobody
has asked for a while. Its segments come from the listeners' Opus packets (a fanout tap), so
an audience of any size costs the room one mux per 20 ms; a CDN or caching proxy serves the
audience. Its URLs carry a random key: whoever was given them (an authorized listener) can
pass them on, like a room link, and a cache can serve them to anyone without credentials.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable

from media.hls import SEGMENT, LiveSegmenter, Segment
from media.opus import OpusPacket

IDLE = 30.0  # seconds without a request after which the broadcast stops


class Broadcast:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.key = secrets.token_urlsafe(16)
        self._segmenter = LiveSegmenter()
        self._clock = clock
        self.last_asked = clock()
        self._new = asyncio.Condition()
        self._waiting = 0

    def packet(self, packet: OpusPacket, _tick: int) -> None:
        if self._segmenter.add(packet) is not None and self._waiting:
            asyncio.get_running_loop().create_task(self._announce())

    async def _announce(self) -> None:
        async with self._new:
            self._new.notify_all()

    def asked(self) -> None:
        self.last_asked = self._clock()

    @property
    def idle(self) -> bool:
        return self._clock() - self.last_asked > IDLE

    @property
    def init(self) -> bytes | None:
        return self._segmenter.init

    def segment(self, seq: int) -> Segment | None:
        return self._segmenter.segment(seq)

    def playlist(self) -> str:
        return self._segmenter.playlist()

    async def until(self, seq: int) -> None:
        """Waits (at most three segments' time) until segment ``seq`` is out: a client's
        blocking playlist reload (``_HLS_msn``), instead of polling."""
        if seq > self._segmenter.next_seq + 2:
            return  # too far ahead: answered at once
        self._waiting += 1
        try:
            async with self._new:
                await asyncio.wait_for(
                    self._new.wait_for(lambda: self._segmenter.next_seq > seq), 3 * SEGMENT
                )
        except TimeoutError:
            pass
        finally:
            self._waiting -= 1

    def close(self) -> None:
        self._segmenter.close()
