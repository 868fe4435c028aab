"""Inbound slicing and the outbound paced track, without a network."""

from __future__ import annotations

import asyncio
import fractions

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from media.inbound import FrameSlicer
from media.outbound import PacketTrack, PcmTrack
from media.pcm import IN_FRAME, OUT_FRAME


def stereo_48k(samples: int, pts: int = 0) -> av.AudioFrame:
    data = np.zeros((1, samples * 2), np.int16)
    data[0, ::2] = 1000  # left channel only
    frame = av.AudioFrame.from_ndarray(data, format="s16", layout="stereo")
    frame.sample_rate = 48000
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, 48000)
    return frame


def test_slicer_turns_any_packet_size_into_exact_16k_mono_frames() -> None:
    slicer = FrameSlicer()
    frames = []
    pts = 0
    for size in (480, 960, 1440, 333, 2000, 960):  # 10 to 42 ms packets
        frames += slicer.push(stereo_48k(size, pts))
        pts += size
    total = sum((480, 960, 1440, 333, 2000, 960)) / 3
    assert all(len(f) == IN_FRAME and f.dtype == np.int16 for f in frames)
    assert len(frames) == int(total // IN_FRAME) or len(frames) == int(total // IN_FRAME) - 1
    assert 400 < int(np.median(frames[-1])) < 600, "stereo is mixed down, not one side"


async def test_paced_track_hands_over_frames_in_order_and_drops_the_oldest() -> None:
    track = PcmTrack(depth=2)
    for level in (1, 2, 3):
        track.push(np.full(OUT_FRAME, level, np.int16))
    first = await track.recv()
    second = await track.recv()
    assert int(first.to_ndarray()[0, 0]) == 2 and int(second.to_ndarray()[0, 0]) == 3
    assert second.pts - first.pts == OUT_FRAME and first.sample_rate == 48000


async def test_drop_queued_times_the_next_frame_out() -> None:
    track = PcmTrack(depth=2)
    track.push(np.full(OUT_FRAME, 5, np.int16))
    watcher = track.drop_queued()
    assert not watcher.done()
    track.push(np.zeros(OUT_FRAME, np.int16))
    frame = await track.recv()
    assert not frame.to_ndarray().any(), "the queued loud frame was dropped"
    assert watcher.done() and watcher.result() > 0


async def test_a_stopped_track_ends() -> None:
    track = PcmTrack()
    track.stop()
    with pytest.raises(MediaStreamError):
        await track.recv()


async def test_a_packet_track_hands_the_same_packets_on_and_notes_send_intervals() -> None:
    track = PacketTrack(depth=4)
    packets = [av.Packet(bytes([i]) * 10) for i in range(3)]
    for packet in packets:
        track.push(packet)
    received = [await track.recv() for _ in range(3)]
    assert [bytes(p) for p in received] == [bytes(p) for p in packets]
    assert received[0] is packets[0], "shared, not copied"
    assert len(track.intervals()) == 2 and (track.intervals() >= 0).all()


async def test_stopping_a_track_ends_a_sender_waiting_for_its_next_frame() -> None:
    track = PacketTrack()
    waiting = asyncio.ensure_future(track.recv())
    while track._waiter is None:  # noqa: ASYNC110 - until the sender is parked in recv
        await asyncio.sleep(0)
    track.stop()
    with pytest.raises(MediaStreamError):
        await waiting
