from __future__ import annotations

import itertools

import av
import numpy as np
import pytest

from clients.fixtures import COMMANDS, labelled_speech, noise, spoken_commands
from media.end_of_turn import Patience
from media.pcm import IN_FRAME
from media.tts import EspeakTextToSpeech
from media.vad import (
    SpeechStarted,
    SpeechStopped,
    SpeechSuspected,
    SuspicionCleared,
    VadConfig,
    VadEvent,
    VadSegmenter,
)


def run(pcm: np.ndarray, config: VadConfig | None = None) -> list[VadEvent]:
    segmenter = VadSegmenter(config)
    padded = np.concatenate([pcm, np.zeros(16000, np.int16)])
    events: list[VadEvent] = []
    for start in range(0, len(padded) - IN_FRAME + 1, IN_FRAME):
        frame = padded[start : start + IN_FRAME]
        events += segmenter.push(frame, (start + IN_FRAME) / 16000)
    return events


def _to_16k(pcm: np.ndarray, rate: int) -> np.ndarray:
    frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), "s16", "mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler("s16", "mono", 16000)
    out = [*resampler.resample(frame), *resampler.resample(None)]
    return np.concatenate([f.to_ndarray().reshape(-1) for f in out])


def utterances(events: list[VadEvent]) -> list[VadEvent]:
    return [e for e in events if isinstance(e, SpeechStarted | SpeechStopped)]


@pytest.mark.parametrize("clip", labelled_speech(), ids=lambda c: c.name[-4:])
def test_onset_and_offset_match_the_labels(clip) -> None:  # type: ignore[no-untyped-def]
    events = utterances(run(clip.pcm))
    assert [type(e) for e in events] == [SpeechStarted, SpeechStopped], "one utterance"
    started, stopped = events
    assert isinstance(started, SpeechStarted) and isinstance(stopped, SpeechStopped)
    assert 0 <= started.at - clip.onset <= 0.1, "onset within 100 ms, never early"
    longest = VadConfig().end_of_turn.unsure  # no words known: neither finished nor not
    assert 0 <= stopped.at - clip.offset <= longest + 0.15
    assert len(stopped.audio) / 16000 >= clip.offset - clip.onset, "utterance audio kept"


@pytest.mark.parametrize("command", spoken_commands(), ids=lambda c: c.name)
def test_each_spoken_command_is_one_utterance_ending_at_its_aligned_end(command) -> None:  # type: ignore[no-untyped-def]
    """The benchmarks' true ends: the forced alignment's last word ends where the voice does
    (its first word may take in the silence before it: the aligner has no pause to put)."""
    said = {name.split(".")[0]: text for name, text in COMMANDS}[command.name]
    assert " ".join(word for word, _, _ in command.words) == said, "every word placed"
    assert all(a[2] <= b[1] + 1e-9 for a, b in itertools.pairwise(command.words)), "in order"
    events = utterances(run(command.pcm))
    assert [type(e) for e in events] == [SpeechStarted, SpeechStopped], "one utterance"
    stopped = events[1]
    assert isinstance(stopped, SpeechStopped)
    end = command.words[-1][2]
    # the end's silence (no words known: neither finished nor not) after the voice, which
    # may be heard to stop in the last word's weak tail (the "bz" of "clubs": 150 ms)
    assert -0.2 <= stopped.at - stopped.silence - end <= 0.1


@pytest.mark.parametrize("gain_db", [0.0, -12.0])
def test_a_quiet_speaker_has_no_pause_inside_a_word(gain_db: float) -> None:
    """ "go forward ten meters" 12 dB quieter (about -40 dBFS): webrtcvad calls the last
    part of "forward" unvoiced, but the speech model is sure of it and it is nearly as loud
    as the voice, so it is voice: the gap before "ten" is the 130 ms the speaker left, not a
    pause long enough to end a phrase that sounds finished; no pause inside is long enough
    to end an utterance by silence alone."""
    command = next(c for c in spoken_commands() if c.name == "goforward")
    pcm = (command.pcm * 10 ** (gain_db / 20)).astype(np.int16)
    segmenter = VadSegmenter()
    padded = np.concatenate([pcm, np.zeros(16000, np.int16)])
    pauses: list[tuple[float, float]] = []  # (length, when the voice came back)
    silent, t = 0.0, 0.0
    for start in range(0, len(padded) - IN_FRAME + 1, IN_FRAME):
        t = (start + IN_FRAME) / 16000
        if any(isinstance(e, SpeechStopped) for e in segmenter.push(padded[start:][:IN_FRAME], t)):
            break
        if silent > 0 and segmenter.silent == 0:  # the voice came back: a pause inside
            pauses.append((silent, t))
        silent = segmenter.silent
    assert t > command.words[-1][2], "one utterance"
    assert all(length < VadConfig().end_of_turn.unsure for length, _ in pauses), pauses
    ten = command.words[2][1]
    before_ten = [length for length, back in pauses if abs(back - ten) < 0.15]
    assert max(before_ten, default=0.0) < VadConfig().end_of_turn.complete, pauses


@pytest.mark.parametrize(
    "kind", ["white", "loud-white", "pink", "hum", "clicks", "fixture-background"]
)
def test_no_onset_on_noise(kind: str) -> None:
    assert run(noise(kind)) == []


@pytest.mark.parametrize("kind", ["white", "loud-white", "pink", "clicks"])
def test_no_onset_on_noise_bursting_out_of_silence(kind: str) -> None:
    """The noise floor has no time to adapt: the speech model must hold alone. A hiss that
    bursts out may be suspected to be breath (the agent's voice held for a moment), once, and
    the suspicion is cleared."""
    events = run(np.concatenate([np.zeros(16000, np.int16), noise(kind, 2.0)]))
    assert utterances(events) == []
    kinds = [type(e) for e in events]
    assert kinds in ([], [SpeechSuspected, SuspicionCleared]), kinds
    if events:
        held = events[1].at - events[0].at
        assert held == pytest.approx(VadConfig().suspect_window, abs=0.011)


def test_speech_after_noise_is_still_found() -> None:
    clip = labelled_speech()[1]
    events = run(np.concatenate([noise("pink", 2.0), clip.pcm]))
    assert isinstance(events[0], SpeechStarted)
    assert 0 <= events[0].at - (2.0 + clip.onset) <= 0.1


def test_frames_must_be_20_ms() -> None:
    with pytest.raises(ValueError):
        VadSegmenter().push(np.zeros(100, np.int16), 0.0)


@pytest.mark.parametrize("clip", labelled_speech(), ids=lambda c: c.name[-4:])
def test_a_silent_microphone_is_not_judged_and_speech_out_of_it_is_found_as_soon(clip) -> None:  # type: ignore[no-untyped-def]
    """Digital silence (a muted or noise-suppressed microphone) does not run the speech model;
    a voice that follows is found exactly when it is found out of a continuously judged one."""
    silence = np.zeros(16000 * 2, np.int16)
    resting = VadSegmenter()
    model = resting._model._model
    runs = 0
    judge = model.process

    def counted(data):  # type: ignore[no-untyped-def]
        nonlocal runs
        runs += 1
        return judge(data)

    model.process = counted
    frames = [silence[i : i + IN_FRAME] for i in range(0, len(silence), IN_FRAME)]
    for index, frame in enumerate(frames):
        assert resting.push(frame, (index + 1) * 0.02) == []
    assert runs == 0, "no model run on silence"
    found = [
        e
        for i in range(0, len(clip.pcm) - IN_FRAME + 1, IN_FRAME)
        for e in resting.push(clip.pcm[i : i + IN_FRAME], 2.0 + (i + IN_FRAME) / 16000)
    ]
    started = next(e for e in found if isinstance(e, SpeechStarted))
    reference = next(e for e in run(clip.pcm) if isinstance(e, SpeechStarted))
    assert started.at - 2.0 == pytest.approx(reference.at, abs=0.021)


def _spoken_over_hiss(text: str) -> np.ndarray:
    speech = EspeakTextToSpeech(175).synthesize(text, "en-us")
    pcm = _to_16k(speech.pcm, speech.sample_rate)
    hiss = noise("white", 1.0 + len(pcm) / 16000 + 0.5) // 10  # -50 dBFS
    hiss[16000 : 16000 + len(pcm)] = np.clip(
        hiss[16000 : 16000 + len(pcm)].astype(np.int32) + pcm, -32768, 32767
    )
    return hiss


def test_suspected_onsets_can_be_switched_off() -> None:
    events = run(_spoken_over_hiss("so what do you think"), VadConfig(suspect_onsets=False))
    assert [type(e) for e in events] == [SpeechStarted, SpeechStopped]


@pytest.mark.parametrize("text", ["so what do you think", "shall we stop here", "how long is it"])
def test_a_breathy_or_hissing_onset_is_suspected_before_its_voice_is_sure(text: str) -> None:
    """ "s", "sh", "h" before the first vowel: the agent can be held at the first 30 to 50 ms
    of frication or breath, long before the voiced part confirms the utterance."""
    events = run(_spoken_over_hiss(text))
    suspected = [e for e in events if isinstance(e, SpeechSuspected)]
    started = [e for e in events if isinstance(e, SpeechStarted)]
    assert len(suspected) == 1 and len(started) == 1
    assert suspected[0].at <= started[0].at - 0.04, (suspected, started)
    assert not any(isinstance(e, SuspicionCleared) for e in events), "speech came of it"


@pytest.mark.parametrize("least", [0.0, 0.7], ids=["no-lesson", "taught"])
def test_a_pause_shorter_than_what_the_person_taught_does_not_end_their_turn(
    least: float,
) -> None:
    """Words that sound finished, then half a second of room tone: the policy's short wait
    ends the turn in the pause, unless this person went on after such a pause before."""
    clip = labelled_speech()[0]
    cut = int(2.26 * 16000)  # a gap between two words of this recording
    audio = np.concatenate([clip.pcm[:cut], noise("fixture-background", 0.5), clip.pcm[cut:]])
    audio = np.concatenate([audio, np.zeros(16000, np.int16)])
    segmenter = VadSegmenter(VadConfig(turn_model=False))
    segmenter.patience = Patience(least=least)
    stops = []
    for start in range(0, len(audio) - IN_FRAME + 1, IN_FRAME):
        t = (start + IN_FRAME) / 16000
        events = segmenter.push(audio[start : start + IN_FRAME], t)
        stops += [t for e in events if isinstance(e, SpeechStopped)]
        if segmenter.silent > 0 and not segmenter.partial:
            segmenter.hear("trams are better")  # the words before the pause, as it begins
    ends_in_pause = [t for t in stops if 2.26 < t < 2.76]
    assert len(ends_in_pause) == (0 if least else 1)
