"""The voice detector on the noise corpus: everyday non-speech at the speech's own level
starts no utterance, and speech laid over it is still found early.

``clients.noise_corpus`` synthesizes each class; ``benchmarks/vad_noise.py`` reports the
same figures over more instances per class."""

from __future__ import annotations

import numpy as np
import pytest

from clients.fixtures import labelled_speech
from clients.noise_corpus import CLASSES, sound, to_pcm
from clients.vad_scores import run, score
from media.vad import SpeechStarted, SpeechSuspected, SuspicionCleared, VadSegmenter

# Coughs are vocal: the detector may start on one; the floor resumes the speaker (no words).
REJECTED = [kind for kind in CLASSES if kind not in ("music", "cough")]


@pytest.mark.parametrize("kind", REJECTED)
@pytest.mark.parametrize("level", [-20.0, -35.0])
def test_everyday_non_speech_starts_no_utterance(kind: str, level: float) -> None:
    """Ten seconds starting abruptly out of silence: the floor has no time to adapt."""
    clip = np.concatenate([np.zeros(8000), sound(kind, 10.0, level, seed=5)])
    onsets = [e for e in run(VadSegmenter(), to_pcm(clip)) if isinstance(e, SpeechStarted)]
    assert onsets == []


@pytest.mark.parametrize("kind", list(CLASSES))
def test_speech_over_noise_is_found_early(kind: str) -> None:
    """Noise alone for 2 s, then each fixture over it at 20 and 10 dB SNR."""
    result = score(kind, labelled_speech(), (20.0, 10.0), lead=2.0)
    assert result.missed == 0, result.line()
    assert float(np.median(result.delays)) <= 0.1, result.line()


def test_music_rarely_starts_an_utterance() -> None:
    """Known limit: a note that starts right after another, before its pitch has held,
    sometimes reads as a voice. Bounded at one false onset per 20 s of music."""
    seconds = 0.0
    false = 0
    for seed in (0, 1, 2):
        for level in (-20.0, -35.0):
            events = run(VadSegmenter(), to_pcm(sound("music", 10.0, level, seed)))
            false += sum(isinstance(e, SpeechStarted) for e in events)
            seconds += 10.0
    assert false / seconds <= 1 / 20


# Hiss bursting out of silence sounds like the start of an "s" (it is suspected once, and the
# suspicion is cleared); a cough is vocal.
UNSUSPECTED = [kind for kind in CLASSES if kind not in ("white", "pink", "cough")]


@pytest.mark.parametrize("kind", UNSUSPECTED)
@pytest.mark.parametrize("level", [-20.0, -35.0])
def test_everyday_non_speech_holds_no_agent_voice(kind: str, level: float) -> None:
    """A suspected onset pauses a speaking agent until speech follows or the suspicion is
    cleared: tones, beeps, hums, fans, music, typing and clicks are never suspected."""
    clip = np.concatenate([np.zeros(8000), sound(kind, 10.0, level, seed=5)])
    events = run(VadSegmenter(), to_pcm(clip))
    assert [e for e in events if isinstance(e, SpeechSuspected)] == []


@pytest.mark.parametrize("kind", ["white", "pink"])
def test_hiss_is_suspected_at_most_once_and_cleared(kind: str) -> None:
    clip = np.concatenate([np.zeros(8000), sound(kind, 10.0, -35.0, seed=5)])
    events = run(VadSegmenter(), to_pcm(clip))
    kinds = [type(e) for e in events]
    assert kinds in ([], [SpeechSuspected, SuspicionCleared]), kinds
