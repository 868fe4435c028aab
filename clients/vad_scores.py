"""Scores a voice detector on the noise corpus: false onsets, missed onsets, onset delay.

Used by ``tests/media/test_vad_noise.py`` (bounds) and ``benchmarks/vad_noise.py`` (the
per-class report).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from clients.fixtures import Labelled
from clients.noise_corpus import Mixed, mix
from media.pcm import IN_FRAME, IN_RATE
from media.vad import SpeechStarted, SpeechSuspected, VadEvent, VadSegmenter

ONSET_WINDOW = 0.5  # an onset found later than this after the label is missed


def run(segmenter: VadSegmenter, pcm: np.ndarray) -> list[VadEvent]:
    padded = np.concatenate([pcm, np.zeros(IN_RATE, np.int16)])
    events: list[VadEvent] = []
    for start in range(0, len(padded) - IN_FRAME + 1, IN_FRAME):
        events += segmenter.push(padded[start : start + IN_FRAME], (start + IN_FRAME) / IN_RATE)
    return events


@dataclass
class ClassScore:
    kind: str
    noise_seconds: float = 0.0
    false_onsets: int = 0
    false_holds: int = 0  # onsets suspected in noise alone (the agent pauses, then goes on)
    trials: int = 0
    missed: int = 0
    delays: list[float] = field(default_factory=list)

    @property
    def false_per_minute(self) -> float:
        return 60 * self.false_onsets / self.noise_seconds if self.noise_seconds else 0.0

    def line(self) -> str:
        delays = np.array(self.delays or [float("nan")]) * 1000
        return (
            f"{self.kind:14} false onsets {self.false_per_minute:5.1f}/min  "
            f"holds {60 * self.false_holds / max(self.noise_seconds, 1e-9):5.1f}/min  "
            f"missed {self.missed}/{self.trials}  onset delay "
            f"p50 {np.median(delays):4.0f} ms  max {np.max(delays):4.0f} ms"
        )


def score(
    kind: str,
    clips: Iterable[Labelled],
    snrs: Iterable[float],
    make: Callable[[], VadSegmenter] = VadSegmenter,
    lead: float = 3.0,
    seeds: Iterable[int] = (0,),
) -> ClassScore:
    """Every clip over every SNR and seed of ``kind``: noise alone for ``lead`` s, then speech."""
    result = ClassScore(kind)
    for seed in seeds:
        for snr in snrs:
            for clip in clips:
                mixed = mix(clip.pcm, clip.onset, kind, snr, lead, seed)
                tally(result, mixed, run(make(), mixed.pcm))
    return result


def tally(result: ClassScore, mixed: Mixed, events: list[VadEvent]) -> None:
    starts = [e for e in events if isinstance(e, SpeechStarted)]
    result.noise_seconds += mixed.noise_alone
    result.false_onsets += sum(1 for e in starts if e.at < mixed.noise_alone)
    suspected = [e for e in events if isinstance(e, SpeechSuspected)]
    result.false_holds += sum(1 for e in suspected if e.at < mixed.noise_alone)
    result.trials += 1
    found = [e.at for e in starts if mixed.noise_alone <= e.at <= mixed.onset + ONSET_WINDOW]
    if found:
        result.delays.append(max(0.0, found[0] - mixed.onset))
    else:
        result.missed += 1
