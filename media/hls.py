"""A live broadcast of the mix as HLS: the listeners' Opus packets in fragmented MP4 (CMAF),
one segment about every ``SEGMENT`` seconds, the last few kept in memory.

FFmpeg's MP4 muxer (PyAV) writes the init segment (``ftyp`` + ``moov``) first and then one
fragment (``moof`` + ``mdat``) each time ``SEGMENT`` seconds of packets are in; the bytes are
split at those boxes as they come. No second encode: the packets are the ones the listeners
get. Browsers play Opus in fMP4 through Media Source Extensions; the playlist is HLS version 7
(``EXT-X-MAP``).
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

import av

from media.muxing import BytesSink, stamped
from media.opus import OpusPacket
from media.pcm import FRAME_SECONDS, OUT_RATE

SEGMENT = 2.0  # seconds per segment
KEEP = 6  # segments kept (and listed: 12 s of the room)
CODECS = 'audio/mp4; codecs="opus"'


@dataclass(frozen=True)
class Segment:
    seq: int
    duration: float  # seconds
    data: bytes  # moof + mdat


def _boxes(data: bytes | bytearray) -> list[tuple[bytes, int]]:
    """The complete top-level boxes at the start of ``data``: (type, size)."""
    found, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size < 8 or at + size > len(data):
            break
        found.append((kind, size))
        at += size
    return found


class LiveSegmenter:
    def __init__(self) -> None:
        self._sink = BytesSink()
        self._container = av.open(
            self._sink,
            "w",
            format="mp4",
            options={
                "movflags": "empty_moov+default_base_moof+frag_discont",
                "frag_duration": str(int(SEGMENT * 1_000_000)),
                "flush_packets": "1",
            },
        )
        self._stream = self._container.add_stream("libopus", rate=OUT_RATE, layout="mono")
        self.init: bytes | None = None
        self.segments: deque[Segment] = deque(maxlen=KEEP)
        self.next_seq = 0  # the sequence number of the segment being filled
        self._frames = 0  # packets muxed
        self._cut = 0  # packets muxed when the last segment was cut
        self._closed = False

    def add(self, packet: OpusPacket) -> Segment | None:
        """The next 20 ms; the segment it completed, if any."""
        if self._closed:
            return None
        before = self._frames
        self._container.mux(stamped(packet, before, self._stream))
        self._frames += 1
        return self._split(before)

    def _split(self, frames_in_it: int) -> Segment | None:
        """Takes the complete boxes written so far: the init segment, then fragments."""
        pending, done = self._sink.pending, None
        boxes = _boxes(pending)
        if self.init is None:
            if [kind for kind, _ in boxes[:2]] != [b"ftyp", b"moov"]:
                return None
            size = boxes[0][1] + boxes[1][1]
            self.init = bytes(pending[:size])
            del pending[:size]
            boxes = boxes[2:]
        while len(boxes) >= 2 and boxes[0][0] == b"moof" and boxes[1][0] == b"mdat":
            size = boxes[0][1] + boxes[1][1]
            duration = (frames_in_it - self._cut) * FRAME_SECONDS
            done = Segment(self.next_seq, duration, bytes(pending[:size]))
            self.segments.append(done)
            self.next_seq += 1
            self._cut = frames_in_it
            del pending[:size]
            boxes = boxes[2:]
        return done

    def segment(self, seq: int) -> Segment | None:
        return next((s for s in self.segments if s.seq == seq), None)

    def playlist(self, prefix: str = "") -> str:
        """The live playlist (HLS 7): the segments kept, the init segment as its map."""
        listed = list(self.segments)
        target = max([SEGMENT, *(s.duration for s in listed)])
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:7",
            f"#EXT-X-TARGETDURATION:{int(target + 0.999)}",
            f"#EXT-X-MEDIA-SEQUENCE:{listed[0].seq if listed else self.next_seq}",
            f'#EXT-X-MAP:URI="{prefix}init.mp4"',
        ]
        for s in listed:
            lines += [f"#EXTINF:{s.duration:.3f},", f"{prefix}{s.seq}.m4s"]
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._container.close()
