"""Audio over a WebSocket, for clients without WebRTC: 16 kHz mono s16le PCM both ways.

``PcmInTrack`` turns received binary messages into audio frames, so a socket speaker goes
through exactly the same inbound path (slicer, VAD, recognizer) as a WebRTC one; ``to_16k``
turns the room's 48 kHz mix back into 16 kHz PCM for the socket.
"""

from __future__ import annotations

import asyncio
import fractions

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.pcm import IN_RATE, Pcm

SOCKET_RATE = IN_RATE


class PcmInTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, depth: int = 50) -> None:
        super().__init__()
        self._queue: asyncio.Queue[Pcm | None] = asyncio.Queue(maxsize=depth)
        self._pts = 0
        self._time_base = fractions.Fraction(1, SOCKET_RATE)

    def push(self, data: bytes) -> None:
        """One binary message of s16le samples (an odd trailing byte is dropped)."""
        pcm = np.frombuffer(data[: len(data) // 2 * 2], np.int16)
        if not len(pcm):
            return
        if self._queue.full():  # a client far ahead of real time: drop the oldest audio
            self._queue.get_nowait()
        self._queue.put_nowait(pcm)

    def end(self) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def recv(self) -> av.AudioFrame:
        pcm = await self._queue.get()
        if pcm is None:
            self.stop()
            raise MediaStreamError
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SOCKET_RATE
        frame.pts = self._pts
        frame.time_base = self._time_base
        self._pts += len(pcm)
        return frame


def to_16k(frame: av.AudioFrame) -> bytes:
    """A 48 kHz mono s16 frame → 16 kHz s16le bytes (averaging each 3 samples)."""
    pcm = frame.to_ndarray().reshape(-1).astype(np.int32)
    usable = len(pcm) // 3 * 3
    return bytes(pcm[:usable].reshape(-1, 3).mean(axis=1).astype(np.int16).tobytes())
