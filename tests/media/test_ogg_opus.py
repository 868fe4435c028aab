"""The recording's container: the listeners' Opus packets in Ogg, taken page by page, with
silence where the room's clock skipped; and what each part decodes to with PyAV."""

from __future__ import annotations

import io

import av
import numpy as np

from media.ogg_opus import OggOpusWriter, clip
from media.opus import OpusLane
from media.pcm import OUT_FRAME
from server.recordings.recorder import frames_to_fill


def tone(tick: int) -> np.ndarray:
    t = np.arange(OUT_FRAME) + tick * OUT_FRAME
    return (np.sin(2 * np.pi * 440 * t / 48000) * 8000).astype(np.int16)


def decode(data: bytes) -> np.ndarray:
    """As int16-scaled floats (libopus decodes to floats in [-1, 1])."""
    with av.open(io.BytesIO(data)) as container:
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    return audio * 32768.0 if audio.dtype.kind == "f" else audio.astype(np.float64)


def test_pages_taken_as_they_are_written_decode_to_the_frames_and_the_silence_put_in() -> None:
    lane, writer, taken, packets = OpusLane(), OggOpusWriter(), bytearray(), 0
    for tick in range(200):
        if (packet := lane.encode(tone(tick), tick)) is not None:
            writer.add(packet)
            packets += 1
        if tick == 100:
            writer.silence(50)  # a second the room's clock skipped
        taken += writer.take()
    assert len(taken) > 0  # pages come out while recording, not only at the end
    taken += writer.close()
    assert writer.size == len(taken)
    assert writer.ticks == packets + 50 and abs(writer.seconds - writer.ticks * 0.02) < 1e-9
    audio = decode(bytes(taken))
    assert abs(len(audio) - writer.ticks * OUT_FRAME) <= 960  # the encoder's pre-skip aside
    level = [
        np.sqrt(np.mean(audio[i * 960 : (i + 1) * 960] ** 2)) for i in range(len(audio) // 960)
    ]
    assert min(level[20:90]) > 1000  # the tone
    assert max(level[105:145]) < 30  # the silence that was put in
    assert min(level[160:240]) > 1000  # the tone again, after it


def test_a_cut_short_recording_still_plays_what_was_taken() -> None:
    lane, writer, taken = OpusLane(), OggOpusWriter(), bytearray()
    for tick in range(150):
        if (packet := lane.encode(tone(tick), tick)) is not None:
            writer.add(packet)
        taken += writer.take()  # then the process dies: no close, no last page
    audio = decode(bytes(taken))
    assert len(audio) >= 48000  # at least the first second's pages play


def test_silence_fills_only_what_the_rooms_clock_skipped() -> None:
    assert frames_to_fill(1.0, 50, 0.02, 0.02) == 0  # on time
    assert frames_to_fill(1.0, 49, 0.02, 0.02) == 0  # a frame of jitter
    assert frames_to_fill(1.0, 40, 0.15, 0.02) == 0  # late after a short stall: a burst follows
    assert frames_to_fill(1.0, 45, 0.001, 0.001) == 0  # the burst itself
    assert frames_to_fill(1.0, 40, 0.02, 0.3) == 10  # paced again after a skip: fill the gap
    assert frames_to_fill(1.0, 55, 0.02, 0.02) == 0  # ahead for a moment: nothing taken out


def test_a_clip_holds_the_packets_of_its_span_and_decodes() -> None:
    lane, writer, taken = OpusLane(), OggOpusWriter(), bytearray()
    for tick in range(250):  # 5 s: silence, a second of tone from 2 s, silence
        pcm = tone(tick) if 100 <= tick < 150 else np.zeros(OUT_FRAME, np.int16)
        if (packet := lane.encode(pcm, tick)) is not None:
            writer.add(packet)
        taken += writer.take()
    taken += writer.close()
    piece = decode(clip(bytes(taken), 2.0, 3.0))
    assert abs(len(piece) - 48000) <= 960  # one second (the pre-skip aside)
    level = np.sqrt(np.mean(piece[4800:-4800] ** 2))
    assert level > 1000  # the tone, not the silence around it
    assert clip(bytes(taken), 6.0, 7.0) == b""  # past the end: nothing
    assert clip(b"", 0.0, 1.0) == b""  # a recording with nothing stored yet
    assert clip(b"OggS broken", 0.0, 1.0) == b""  # or nothing readable
    assert decode(clip(bytes(taken)[: len(taken) // 2], 1.0, 2.0)).size > 0  # cut short
