"""What the recording and the broadcast share to put the listeners' Opus packets in a
container with PyAV: a sink the muxer writes to in memory, and a packet's copy stamped with
its place on the 20 ms timeline."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import av

from media.opus import TIME_BASE, OpusPacket
from media.pcm import OUT_FRAME

if TYPE_CHECKING:
    from av.audio.stream import AudioStream


class BytesSink(io.RawIOBase):
    """Where a muxer writes: bytes gathered until taken (``pending``)."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.pending += data
        return len(data)


def stamped(payload: OpusPacket | bytes, index: int, stream: AudioStream) -> OpusPacket:
    """A packet of ``payload`` for ``stream``, the ``index``-th 20 ms frame of it."""
    copy: OpusPacket = av.Packet(bytes(payload))  # type: ignore[assignment]
    copy.pts = copy.dts = index * OUT_FRAME
    copy.time_base = TIME_BASE
    copy.stream = stream
    return copy
