from __future__ import annotations

import numpy as np
import pytest

from clients.fixtures import labelled_speech, noise
from media.pcm import IN_FRAME
from media.vad import (
    SpeechStarted,
    SpeechStopped,
    VadConfig,
    VadEvent,
    VadSegmenter,
)


def run(pcm: np.ndarray) -> list[VadEvent]:
    segmenter = VadSegmenter()
    padded = np.concatenate([pcm, np.zeros(16000, np.int16)])
    events: list[VadEvent] = []
    for start in range(0, len(padded) - IN_FRAME + 1, IN_FRAME):
        frame = padded[start : start + IN_FRAME]
        events += segmenter.push(frame, (start + IN_FRAME) / 16000)
    return events


@pytest.mark.parametrize("clip", labelled_speech(), ids=lambda c: c.name[-4:])
def test_onset_and_offset_match_the_labels(clip) -> None:  # type: ignore[no-untyped-def]
    events = run(clip.pcm)
    assert [type(e) for e in events] == [SpeechStarted, SpeechStopped], "one utterance"
    started, stopped = events
    assert isinstance(started, SpeechStarted) and isinstance(stopped, SpeechStopped)
    assert 0 <= started.at - clip.onset <= 0.1, "onset within 100 ms, never early"
    longest = VadConfig().end_of_turn.unsure  # no words known: neither finished nor not
    assert 0 <= stopped.at - clip.offset <= longest + 0.15
    assert len(stopped.audio) / 16000 >= clip.offset - clip.onset, "utterance audio kept"


@pytest.mark.parametrize(
    "kind", ["white", "loud-white", "pink", "hum", "clicks", "fixture-background"]
)
def test_no_onset_on_noise(kind: str) -> None:
    assert run(noise(kind)) == []


@pytest.mark.parametrize("kind", ["white", "loud-white", "pink", "clicks"])
def test_no_onset_on_noise_bursting_out_of_silence(kind: str) -> None:
    """The noise floor has no time to adapt: the speech model must hold alone."""
    assert run(np.concatenate([np.zeros(16000, np.int16), noise(kind, 2.0)])) == []


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
