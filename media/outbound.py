"""Outbound stage 3: a paced 48 kHz mono audio track per participant.

The room's clock pushes one 20 ms frame per tick into every participant's track; ``recv``
hands frames to aiortc's encoder in order, and silence when the queue runs dry, so the wire
never stalls. The queue is short (drop-oldest) so a slow peer never builds latency, and
``drop_queued`` empties it so a barge-in duck reaches the wire on the very next frame.
"""

from __future__ import annotations

import asyncio
import fractions

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.pcm import OUT_RATE, Pcm


class PacedAudioTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, depth: int = 2) -> None:
        super().__init__()
        self._queue: asyncio.Queue[Pcm] = asyncio.Queue(maxsize=depth)
        self._pts = 0
        self._time_base = fractions.Fraction(1, OUT_RATE)
        self._watchers: list[asyncio.Future[float]] = []

    def push(self, pcm: Pcm) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(pcm)

    def drop_queued(self) -> asyncio.Future[float]:
        """Empties the queue; the future gets the loop time at which the next frame (made
        after this call) is handed to the encoder."""
        while not self._queue.empty():
            self._queue.get_nowait()
        watcher: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._watchers.append(watcher)
        return watcher

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pcm = await self._queue.get()
        if self._watchers:
            now = asyncio.get_running_loop().time()
            for watcher in self._watchers:
                if not watcher.done():
                    watcher.set_result(now)
            self._watchers.clear()
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = OUT_RATE
        frame.pts = self._pts
        frame.time_base = self._time_base
        self._pts += len(pcm)
        return frame
