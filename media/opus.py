"""Outbound stage 4: one Opus encoder per distinct mix.

Every listener of a room hears the same mix, so it is encoded once per 20 ms and the same
packet goes to every listener's sender (aiortc packetizes pre-encoded ``av.Packet``s without
touching them). A packet's ``pts`` is the room clock's tick times 960 samples, so every lane
of a room shares one timeline and a participant moved from one lane to another stays in step.

A mix that has been silent for a few frames is not encoded again: the last silent packet is
sent as it is (the decoder hears the same silence; the encoder skips the work).
"""

from __future__ import annotations

import fractions
from typing import TYPE_CHECKING

import av

from media.pcm import OUT_FRAME, OUT_RATE, Pcm

BITRATE = 32000  # mono speech; what WebRTC voice calls use
APPLICATION = "audio"  # half the cost of "voip" (which resamples for SILK) at this bitrate
COMPLEXITY = 3  # libopus 0..10: a third of the cost of 10, speech sounds the same
SILENT_RUN = 3  # silent frames encoded before the last one is reused
TIME_BASE = fractions.Fraction(1, OUT_RATE)

if TYPE_CHECKING:
    from av.audio.stream import AudioStream

    OpusPacket = av.Packet[AudioStream]
else:
    OpusPacket = av.Packet


class OpusLane:
    """Encodes one stream of 48 kHz mono 20 ms frames into Opus packets, one per frame."""

    def __init__(self, bitrate: int = BITRATE, complexity: int = COMPLEXITY) -> None:
        codec = av.CodecContext.create("libopus", "w")
        codec.bit_rate = bitrate
        codec.format = "s16"
        codec.layout = "mono"
        codec.sample_rate = OUT_RATE
        codec.time_base = TIME_BASE
        codec.options = {"application": APPLICATION, "compression_level": str(complexity)}
        self._codec = codec
        self._silent = 0  # consecutive silent frames
        self._silence: bytes | None = None  # the last silent frame's payload
        self.encoded = 0  # frames actually encoded (for the benchmark)

    def encode(self, pcm: Pcm, tick: int) -> OpusPacket | None:
        """The packet for this frame (None while the encoder primes, on its first frame)."""
        silent = not pcm.any()
        self._silent = self._silent + 1 if silent else 0
        if self._silent > SILENT_RUN and self._silence is not None:
            return _packet(self._silence, tick)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = OUT_RATE
        frame.pts = tick * OUT_FRAME
        frame.time_base = TIME_BASE
        packets = self._codec.encode(frame)
        self.encoded += 1
        if not packets:
            return None
        payload = bytes(packets[-1])
        if silent:
            self._silence = payload
        return _packet(payload, tick)


def _packet(payload: bytes, tick: int) -> OpusPacket:
    packet: OpusPacket = av.Packet(payload)  # type: ignore[assignment]
    packet.pts = tick * OUT_FRAME
    packet.time_base = TIME_BASE
    return packet
