"""Inbound stage 1: a participant's Opus frames decoded on the event loop, to 48 kHz mono.

aiortc decodes every receiver's audio on a thread of its own and hands each 20 ms frame back
to the loop (``run_coroutine_threadsafe``): a thread wake-up, a GIL hand-over and a loop
wake-up per frame, which cost more CPU than decoding the frame (~25 µs). ``decode_on_loop``
puts a decoder in the place of that thread's queue: each frame the jitter buffer completes
is decoded right there, on the loop, straight to mono (what the room mixes and the VAD
hears), and queued on the receiver's track. aiortc's thread still starts but only waits for
the receiver to stop.

A frame that does not decode (garbage from a broken client) is dropped and counted; the
track goes on with the next one. An empty frame is skipped: handed to the codec it would
read as the end of the stream, after which nothing decodes.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import threading
from typing import Any

import av
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import RTCRtpReceiver

from media.pcm import OUT_RATE

log = logging.getLogger(__name__)
TIME_BASE = fractions.Fraction(1, OUT_RATE)
REPORT_EVERY = 500  # undecodable frames between two log lines


class LoopDecoder:
    """Stands in for a receiver's decoder queue (aiortc calls ``put`` on the loop)."""

    def __init__(self, frames: asyncio.Queue[Any]) -> None:
        self._frames = frames  # the receiver's track reads from this
        self._codec = _opus_decoder()
        self._stopped = threading.Event()
        self.failed = 0  # frames that did not decode

    def put(self, item: tuple[RTCRtpCodecParameters, JitterFrame] | None) -> None:
        if item is None:  # the receiver stopped: so does its track
            self._frames.put_nowait(None)
            self._stopped.set()
            return
        codec, encoded = item
        if not encoded.data:
            return
        packet = av.Packet(encoded.data)
        packet.pts = encoded.timestamp
        packet.time_base = TIME_BASE
        try:
            frames = self._codec.decode(packet)
        except (av.FFmpegError, ValueError) as error:
            if self.failed % REPORT_EVERY == 0:
                log.info("an inbound %s frame did not decode: %s", codec.name, error)
            self.failed += 1
            if isinstance(error, av.error.EOFError):  # the codec ended: start a new one
                self._codec = _opus_decoder()
            return
        for frame in frames:
            self._frames.put_nowait(frame)

    def get(self) -> None:
        """What aiortc's decoder thread waits on: nothing until the receiver stops."""
        self._stopped.wait()


def _opus_decoder() -> av.AudioCodecContext:
    codec = av.CodecContext.create("libopus", "r")
    codec.format = "s16"
    codec.layout = "mono"
    codec.sample_rate = OUT_RATE
    return codec


def decode_on_loop(receiver: RTCRtpReceiver) -> LoopDecoder:
    """Decodes ``receiver``'s audio on the loop. Call before it starts receiving (in the
    peer connection's ``track`` event); the peer must have negotiated Opus only."""
    decoder = LoopDecoder(receiver.track._queue)  # type: ignore[attr-defined]
    receiver._RTCRtpReceiver__decoder_queue = decoder  # type: ignore[attr-defined]
    return decoder
