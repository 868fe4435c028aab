"""Outbound stage 3: a paced 48 kHz mono audio track per participant.

The room's clock pushes one 20 ms frame per tick into every participant's track; ``recv``
hands frames to aiortc's encoder in order, and silence when the queue runs dry, so the wire
never stalls. The queue is short (drop-oldest) so a slow peer never builds latency.
"""

from __future__ import annotations

import asyncio
import fractions

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

OUT_RATE = 48000
OUT_SAMPLES = 960  # 20 ms
Pcm = npt.NDArray[np.int16]
_SILENCE = np.zeros(OUT_SAMPLES, np.int16)


class PacedAudioTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, depth: int = 3) -> None:
        super().__init__()
        self._queue: asyncio.Queue[Pcm] = asyncio.Queue(maxsize=depth)
        self._pts = 0
        self._time_base = fractions.Fraction(1, OUT_RATE)

    def push(self, pcm: Pcm) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(pcm)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pcm = await self._queue.get()
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = OUT_RATE
        frame.pts = self._pts
        frame.time_base = self._time_base
        self._pts += len(pcm)
        return frame


def silence() -> Pcm:
    return _SILENCE
