"""Speech fixtures (16 kHz mono WAV with labelled onsets) and synthetic noise for tests."""

from __future__ import annotations

import functools
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


COMMANDS = (
    ("goforward.raw", "go forward ten meters"),
    ("cards-001.wav", "ten of clubs"),
    ("cards-002.wav", "four queen of clubs"),
    ("cards-003.wav", "seven of clubs"),
)


@dataclass(frozen=True)
class Aligned:
    name: str
    pcm: Pcm
    words: tuple[tuple[str, float, float], ...]  # (word, start, end) in seconds

    def labelled(self) -> Labelled:
        """As a labelled clip: speech from its first word's start to its last word's end."""
        text = " ".join(word for word, _, _ in self.words)
        return Labelled(self.name, self.pcm, self.words[0][1], self.words[-1][2], text)


_ALIGN_PAD = 8000  # samples of near-silence on each side of a clip being aligned


@functools.cache
def spoken_commands() -> tuple[Aligned, ...]:
    """The short spoken commands ("go forward ten meters"), each word placed by PocketSphinx's
    forced alignment against the known words (a few ms each, nothing downloaded)."""
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=16000, lm=None, loglevel="ERROR")
    commands = []
    for name, text in COMMANDS:
        path = FIXTURES / name
        pcm = np.fromfile(path, np.int16) if name.endswith(".raw") else read_wav(path)
        # Some clips start or stop on their voice: without silence around it the aligner
        # stretches the first and last words to the clip's edges. A faint hiss on each side
        # gives it somewhere to put the pauses.
        pad = (np.random.default_rng(0).standard_normal(_ALIGN_PAD) * 3).astype(np.int16)
        decoder.set_align_text(text)
        decoder.start_utt()
        decoder.process_raw(np.concatenate([pad, pcm, pad]).tobytes(), full_utt=True)
        decoder.end_utt()
        shift = _ALIGN_PAD / 16000
        words = tuple(
            (
                seg.word,
                round(max(0.0, seg.start_frame / 100 - shift), 2),
                round((seg.end_frame + 1) / 100 - shift, 2),
            )
            for seg in decoder.seg()
            if not seg.word.startswith("<") and seg.word != "</s>"
        )
        commands.append(Aligned(name.split(".")[0], pcm, words))
    return tuple(commands)


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
