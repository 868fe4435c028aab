"""Inbound Opus decoded on the loop: frames in, 48 kHz mono out, garbage dropped."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from media.decoding import LoopDecoder
from media.opus import OpusLane
from media.pcm import OUT_FRAME, OUT_RATE

OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)


def tone_packets(count: int, level: int = 8000) -> list[bytes]:
    lane = OpusLane()
    t = np.arange(OUT_FRAME * (count + 1)) / OUT_RATE
    pcm = (level * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    packets = [lane.encode(pcm[i * OUT_FRAME : (i + 1) * OUT_FRAME], i) for i in range(count + 1)]
    return [bytes(p) for p in packets if p is not None]


async def test_frames_decode_to_48k_mono_and_garbage_is_dropped_without_ending_the_track() -> None:
    frames: asyncio.Queue[object] = asyncio.Queue()
    decoder = LoopDecoder(frames)
    payloads = tone_packets(10)
    garbage = [b"", b"\xff" * 3, bytes(range(256)) * 8]
    stream = payloads[:5] + garbage + payloads[5:]
    for index, payload in enumerate(stream):
        decoder.put((OPUS, JitterFrame(payload, index * OUT_FRAME)))
    decoded = [frames.get_nowait() for _ in range(frames.qsize())]
    assert decoder.failed >= 1, "undecodable frames are counted"
    assert len(decoded) >= len(payloads), "every good frame after the garbage decodes too"
    for frame in decoded:
        assert frame.sample_rate == OUT_RATE and len(frame.layout.channels) == 1  # type: ignore[attr-defined]
    last = decoded[-1].to_ndarray().reshape(-1)  # type: ignore[attr-defined]
    assert np.abs(last).max() > 4000, "the tone is heard after the garbage"


async def test_stopping_ends_the_track_and_releases_the_waiting_thread() -> None:
    frames: asyncio.Queue[object] = asyncio.Queue()
    decoder = LoopDecoder(frames)
    waiter = threading.Thread(target=decoder.get)
    waiter.start()
    decoder.put(None)
    await asyncio.to_thread(waiter.join)
    assert not waiter.is_alive() and frames.get_nowait() is None
