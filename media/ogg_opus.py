"""A recording of the mix: the Opus packets already encoded for the listeners' lane, put in
an Ogg container as they come (no second encode).

FFmpeg's Ogg muxer (PyAV) writes a page about every second; each page is handed over as
bytes at once (``take``), so whoever stores them loses at most the page being filled when the
process dies. Packets follow each other 20 ms apart; time the room's clock skipped (a stalled
loop) is filled with silent frames (``silence``), so the recording's time stays the time
that passed.
"""

from __future__ import annotations

import io

import av

from media.muxing import BytesSink, stamped
from media.opus import TIME_BASE, OpusPacket
from media.pcm import OUT_FRAME, OUT_RATE

SILENT_FRAME = b"\xf8\xff\xfe"  # one 20 ms Opus frame of silence (CELT, code 0)


class OggOpusWriter:
    """Opus packets of one 48 kHz mono stream in, Ogg/Opus bytes out."""

    def __init__(self) -> None:
        self._pages = BytesSink()
        self._container = av.open(self._pages, "w", format="ogg", options={"flush_packets": "1"})
        self._stream = self._container.add_stream("libopus", rate=OUT_RATE, layout="mono")
        self.ticks = 0  # the recording's length so far, in 20 ms frames
        self.size = 0  # bytes taken so far
        self._closed = False

    @property
    def seconds(self) -> float:
        return self.ticks * OUT_FRAME / OUT_RATE

    def add(self, packet: OpusPacket | bytes) -> None:
        """The next 20 ms."""
        if self._closed:
            return
        self._container.mux(stamped(packet, self.ticks, self._stream))
        self.ticks += 1

    def silence(self, frames: int) -> None:
        for _ in range(frames):
            self.add(SILENT_FRAME)

    def take(self) -> bytes:
        """The bytes written since the last call (whole pages)."""
        data = bytes(self._pages.pending)
        self._pages.pending.clear()
        self.size += len(data)
        return data

    def close(self) -> bytes:
        """Ends the stream; the last bytes (the last page)."""
        if not self._closed:
            self._closed = True
            self._container.close()
        return self.take()


def clip(data: bytes, start: float, end: float) -> bytes:
    """The packets of the Ogg/Opus recording ``data`` from ``start`` to ``end`` seconds, as an
    Ogg/Opus file of their own (remuxed, not re-encoded); empty when none are there."""
    writer, out = OggOpusWriter(), bytearray()
    if not data:
        return b""
    try:
        with av.open(io.BytesIO(data), "r", format="ogg") as container:
            stream = container.streams.audio[0]
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                at = float(packet.pts * (packet.time_base or TIME_BASE))
                if at >= end:
                    break
                if at >= start:
                    writer.add(bytes(packet))
                    out += writer.take()
    except (av.FFmpegError, IndexError):
        pass  # a recording cut short (its last page partly stored): what was read so far
    return bytes(out + writer.close())
