"""Inbound stage 2: decoded WebRTC audio (48 kHz, any layout) → 16 kHz mono 20 ms frames."""

from __future__ import annotations

import aioice.ice
import av
import numpy as np
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtcrtpreceiver import RTCRtpReceiver

from media.pcm import IN_FRAME, IN_RATE, Pcm


class FrameSlicer:
    """Resamples whatever arrives to 16 kHz mono s16 and cuts it into exact 20 ms frames."""

    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=IN_RATE)
        self._pending = np.zeros(0, np.int16)

    def push(self, frame: av.AudioFrame) -> list[Pcm]:
        chunks = [
            np.frombuffer(bytes(f.planes[0]), np.int16)[: f.samples]
            for f in self._resampler.resample(frame)
        ]
        if chunks:
            self._pending = np.concatenate([self._pending, *chunks])
        frames = []
        while len(self._pending) >= IN_FRAME:
            frames.append(self._pending[:IN_FRAME].copy())
            self._pending = self._pending[IN_FRAME:]
        return frames


def set_jitter_depth(receiver: RTCRtpReceiver, packets: int) -> None:
    """Owns aiortc's audio jitter buffer depth: it waits for ``packets`` packets (20 ms each)
    before decoding; aiortc's default is 4 (80 ms of latency in front of the VAD)."""
    buffer = JitterBuffer(capacity=16, prefetch=max(0, packets))
    receiver._RTCRtpReceiver__jitter_buffer = buffer  # type: ignore[attr-defined]


def set_peer_timeout(seconds: float) -> None:
    """A peer that stops answering ICE consent checks (RFC 7675) for about ``seconds`` is
    closed. aioice's default is six failed checks five seconds apart: half a minute of a
    vanished participant still counted in the room."""
    checks = 3
    aioice.ice.CONSENT_FAILURES = checks
    aioice.ice.CONSENT_INTERVAL = max(1, round(seconds / checks))
