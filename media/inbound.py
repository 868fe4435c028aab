"""Inbound stage 2: decoded WebRTC audio (48 kHz, any layout) → 16 kHz mono 20 ms frames."""

from __future__ import annotations

import av
import numpy as np
from aiortc.jitterbuffer import MAX_MISORDER, JitterBuffer, JitterFrame
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add, uint16_gt

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


class ArrivalOrder(JitterBuffer):
    """An audio jitter buffer that does not wait: an Opus packet is a whole frame, handed on
    as it arrives. aiortc's buffer can only tell that a frame is complete when a packet of
    the next one arrives, so even at depth 0 it holds every frame 20 ms in front of the VAD.
    A packet a little older than the last one handed on (reordered, late) or a repeat is
    dropped: the hearing loses those 20 ms, the mix (``media.live``) has a buffer of its own.
    One far older (``MAX_MISORDER``, as aiortc's) is a sender that started its numbers anew."""

    def __init__(self) -> None:
        super().__init__(capacity=16)
        self._last: int | None = None  # the sequence number of the last packet handed on

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        number = packet.sequence_number
        if self._last is not None and not uint16_gt(number, self._last):
            if uint16_add(self._last, -number) < MAX_MISORDER:
                return False, None
        self._last = number
        data: bytes = packet._data  # type: ignore[attr-defined]  # the depayloaded frame
        return False, JitterFrame(data=data, timestamp=packet.timestamp)


def set_jitter_depth(receiver: RTCRtpReceiver, packets: int) -> None:
    """Owns aiortc's audio jitter buffer depth: frames wait for ``packets`` packets (20 ms
    each) after them before decoding; 0 hands each on as it arrives (``ArrivalOrder``).
    aiortc's default is 4 (80 ms of latency in front of the VAD)."""
    buffer = ArrivalOrder() if packets <= 0 else JitterBuffer(capacity=16, prefetch=packets)
    receiver._RTCRtpReceiver__jitter_buffer = buffer  # type: ignore[attr-defined]
