"""Speech fixtures (16 kHz mono WAV with labelled onsets) and synthetic noise for tests."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "speech"
Pcm = npt.NDArray[np.int16]


@dataclass(frozen=True)
class Labelled:
    name: str
    pcm: Pcm
    onset: float
    offset: float
    words: str


def read_wav(path: Path) -> Pcm:
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == 16000 and wav.getnchannels() == 1
        return np.frombuffer(wav.readframes(wav.getnframes()), np.int16).copy()


def labelled_speech() -> list[Labelled]:
    clips = []
    for wav_path in sorted(FIXTURES.glob("sense_and_sensibility_*.wav")):
        fields = wav_path.with_suffix(".lab").read_text().split()
        words = wav_path.with_suffix(".txt").read_text().strip()
        clips.append(
            Labelled(wav_path.stem, read_wav(wav_path), float(fields[0]), float(fields[3]), words)
        )
    return clips


def noise(kind: str, seconds: float = 4.0, seed: int = 1) -> Pcm:
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds)
    t = np.arange(n) / 16000
    if kind == "white":
        x = rng.standard_normal(n) * 0.03
    elif kind == "loud-white":
        x = rng.standard_normal(n) * 0.1
    elif kind == "pink":
        spectrum = np.fft.rfft(rng.standard_normal(n)) / np.sqrt(np.arange(1, n // 2 + 2))
        x = np.fft.irfft(spectrum, n)
        x *= 0.03 / np.sqrt(np.mean(x**2))
    elif kind == "hum":
        x = 0.05 * np.sin(2 * np.pi * 50 * t) + 0.01 * np.sin(2 * np.pi * 150 * t)
    elif kind == "clicks":
        x = np.zeros(n)
        x[::4000] = 0.6
        x[1::4000] = -0.6
    elif kind == "fixture-background":
        background = labelled_speech()[0].pcm[:3200]
        return np.tile(background, int(np.ceil(n / len(background))))[:n]
    else:
        raise ValueError(kind)
    return (x * 32767).clip(-32768, 32767).astype(np.int16)
