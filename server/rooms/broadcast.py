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
        self._new = asyncio.Event()  # set (and replaced) when a segment is out, or at the end
        self.closed = False

    def packet(self, packet: OpusPacket, _tick: int) -> None:
        if self._segmenter.add(packet) is not None:
            self._announce()

    def _announce(self) -> None:
        self._new.set()
        self._new = asyncio.Event()

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
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 3 * SEGMENT
        while self._segmenter.next_seq <= seq and not self.closed:
            try:
                await asyncio.wait_for(self._new.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                return

    def close(self) -> None:
        """Ends the broadcast; a reload waiting for a segment is answered at once."""
        if not self.closed:
            self.closed = True
            self._segmenter.close()
            self._announce()
