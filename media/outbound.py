"""Outbound stage 5: a paced track per participant, fed by the room's clock.

The clock pushes one item per 20 ms into every participant's track: an Opus packet shared
with everyone hearing the same mix (``PacketTrack``, for WebRTC: aiortc sends pre-encoded
packets as they are) or a PCM frame (``PcmTrack``, for WebSocket audio). ``recv`` hands them
on in order as the clock makes them (silence is a frame too). The queue is short
(drop-oldest) so a slow peer never builds latency, and ``drop_queued`` empties it so a
barge-in duck reaches the wire on the very next frame.

Each track notes when its sender took every frame (the send side of pacing): ``intervals``.
"""

from __future__ import annotations

import asyncio
import fractions
from collections import deque
from typing import Generic, TypeVar

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.opus import OpusPacket
from media.pcm import OUT_FRAME, OUT_RATE, Pcm

Item = TypeVar("Item")
PACING_SAMPLES = 256  # send intervals kept per track


class _PacedTrack(MediaStreamTrack, Generic[Item]):
    kind = "audio"

    def __init__(self, depth: int = 2) -> None:
        super().__init__()
        # A deque and one waiter, not an asyncio.Queue: this runs 50 times a second for
        # every listener, and is most of what a listener costs besides aiortc's sending.
        self._queue: deque[Item] = deque(maxlen=depth)
        self._waiter: asyncio.Future[None] | None = None
        self._watchers: list[asyncio.Future[float]] = []
        self._sent = np.zeros(PACING_SAMPLES)  # loop time of the last sends (a ring)
        self._count = 0

    def push(self, item: Item) -> None:
        self._queue.append(item)  # the oldest falls off a full queue
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def stop(self) -> None:
        super().stop()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)  # a sender waiting in recv ends

    def drop_queued(self) -> asyncio.Future[float]:
        """Empties the queue; the future gets the loop time at which the next frame (made
        after this call) is handed to the sender."""
        self._queue.clear()
        watcher: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._watchers.append(watcher)
        return watcher

    def intervals(self) -> np.ndarray:
        """Seconds between consecutive sends, the most recent ones."""
        count = min(self._count, PACING_SAMPLES)
        if count < 2:
            return np.zeros(0)
        start = self._count % PACING_SAMPLES
        ring = np.concatenate([self._sent[start:], self._sent[:start]])[-count:]
        return np.diff(ring)

    async def _next(self) -> Item:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        while not self._queue:
            self._waiter = loop.create_future()
            await self._waiter
            if self.readyState != "live":
                raise MediaStreamError
        item = self._queue.popleft()
        now = loop.time()
        self._sent[self._count % PACING_SAMPLES] = now
        self._count += 1
        if self._watchers:
            for watcher in self._watchers:
                if not watcher.done():
                    watcher.set_result(now)
            self._watchers.clear()
        return item


class PacketTrack(_PacedTrack[OpusPacket]):
    """Opus packets of the mix this participant hears, encoded once for all who share it."""

    async def recv(self) -> OpusPacket:
        return await self._next()


class PcmTrack(_PacedTrack[Pcm]):
    """48 kHz mono PCM frames of the mix this participant hears."""

    def __init__(self, depth: int = 2) -> None:
        super().__init__(depth)
        self._pts = 0
        self._time_base = fractions.Fraction(1, OUT_RATE)

    async def recv(self) -> av.AudioFrame:
        pcm = await self._next()
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = OUT_RATE
        frame.pts = self._pts
        frame.time_base = self._time_base
        self._pts += OUT_FRAME
        return frame
