"""Mixer and frame clock: voices summed per 20 ms, overlaps measured, retired voices drained."""

from __future__ import annotations

import av
import numpy as np
import pytest

from media.live import LiveVoice
from media.mixer import Mixer
from media.pcm import OUT_FRAME, OUT_RATE
from media.tts import Speech, WordTiming
from media.voice import VoiceChannel


def voice(seconds: float, level: int = 8000, text: str = "word") -> VoiceChannel:
    channel = VoiceChannel("agent")
    pcm = np.full(round(seconds * OUT_RATE), level, np.int16)
    channel.enqueue(Speech(pcm, OUT_RATE, (WordTiming(text, 0.0, len(text)),)), text)
    channel.close()
    return channel


def test_silence_when_nobody_speaks_and_voices_are_summed_and_clipped() -> None:
    mixer = Mixer()
    frame, overlap = mixer.tick()
    assert len(frame.everyone()) == OUT_FRAME and not frame.everyone().any() and overlap is None
    mixer.add("a", voice(0.1, 20000))
    mixer.add("b", voice(0.1, 20000))
    frame, _ = mixer.tick()
    assert int(frame.everyone().max()) == 32767, "clipped, not wrapped"


def test_an_overlap_is_measured_when_it_ends() -> None:
    mixer = Mixer()
    mixer.add("a", voice(0.2))
    mixer.add("b", voice(0.06))
    overlaps = [mixer.tick()[1] for _ in range(6)]
    assert overlaps[:3] == [None, None, None]
    assert overlaps[3] is not None and abs(overlaps[3] - 0.06) < 1e-9
    assert overlaps[4:] == [None, None]


def test_a_retired_voice_plays_out_then_leaves_and_a_paused_one_is_silent() -> None:
    mixer = Mixer()
    channel = voice(0.1)
    mixer.add("a", channel)
    channel.fade(0.04)  # trails off over two frames
    mixer.retire("a")
    assert mixer.get("a") is channel
    loud = [int(np.abs(mixer.tick()[0].everyone()).max()) for _ in range(3)]
    assert loud[0] > 0 and loud[2] == 0
    assert mixer.get("a") is None
    paused = voice(0.1)
    paused.pause()
    mixer.add("b", paused)
    assert not mixer.tick()[0].everyone().any()


def person(level: int, frames: int = 3) -> LiveVoice:
    live = LiveVoice()
    frame = av.AudioFrame.from_ndarray(
        np.full((1, OUT_FRAME * frames), level, np.int16), format="s16", layout="mono"
    )
    frame.sample_rate = OUT_RATE
    live.push(frame)
    return live


def test_people_are_mixed_in_and_each_can_be_taken_out_again() -> None:
    mixer = Mixer()
    mixer.add("agent", voice(0.1, 20000))
    mixer.add_person("p1", person(15000))
    mixer.add_person("p2", person(3000))
    frame, _ = mixer.tick()
    assert set(frame.people) == {"p1", "p2"}
    assert int(frame.everyone().max()) == 32767, "all three together clip"
    assert int(frame.without("p1").max()) == 23000, "taken out of the unclipped sum"
    assert int(frame.without("p2").max()) == 32767
    assert int(frame.without("nobody").max()) == 32767


def test_a_quiet_microphone_adds_nothing_and_is_not_a_part_of_the_frame() -> None:
    mixer = Mixer()
    mixer.add_person("p1", person(40))  # an open microphone in a quiet room
    frame, _ = mixer.tick()
    assert frame.people == {} and not frame.everyone().any()


def test_a_cut_voice_goes_on_until_its_interrupter_is_heard_then_trails_off_under_it() -> None:
    mixer = Mixer()
    cut = voice(2.0)
    mixer.add("cut", cut)
    cut.fade(0.1, under=1.0)  # 5 frames of trail, after up to 50 frames of waiting
    levels = [int(np.abs(mixer.tick()[0].everyone()).max()) for _ in range(10)]
    assert levels == [8000] * 10, "at its level while the interrupter is not yet heard"
    mixer.add("interrupter", voice(1.0, level=4000))
    ticks = [mixer.tick() for _ in range(8)]
    assert ticks[0][0].everyone().max() == 12000, "both heard at once"
    assert not cut.holding and cut.drained, "trailed off under the interrupter"
    overlaps = [overlap for _, overlap in ticks if overlap is not None]
    assert overlaps == [pytest.approx(0.12)], "the frame they meet in, then the 0.1 s trail"


def test_a_cut_voice_whose_interrupter_is_never_heard_trails_off_after_its_wait() -> None:
    mixer = Mixer()
    cut = voice(2.0)
    mixer.add("cut", cut)
    cut.fade(0.1, under=0.2)  # 10 frames of waiting, then 5 of trail
    levels = [int(np.abs(mixer.tick()[0].everyone()).max()) for _ in range(16)]
    assert levels[:11] == [8000] * 11, "its wait, then a trail that starts at its level"
    assert 0 < levels[11] < 8000 and levels[15] == 0
    assert cut.drained
