"""Everyday non-speech, synthesized: the sounds a voice detector must not take for a person.

Each class is a generator of 16 kHz mono float audio (unit RMS, so a mix sets its level):
tones and beeps (including Chromium's fake microphone, a 400 Hz square beep of 20 ms every
500 ms), mains hum, low-frequency rumble (traffic), wind, fans and air conditioning,
keyboard typing, coughs, clicks, music without singing, white and pink noise. ``mix`` lays speech
over a class at a given SNR (relative to the speech's voiced level) after a stretch of noise
alone, so one clip measures both false onsets (the noise alone) and the speech's onset under
it. Seeds make every clip reproducible; other seeds give other instances of the class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RATE = 16000
Signal = npt.NDArray[np.float64]


def _unit(x: Signal) -> Signal:
    rms = float(np.sqrt(np.mean(x * x)))
    return x / rms if rms > 0 else x


def _lowpass(x: Signal, cutoff: float, high: float = 0.0) -> Signal:
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    spectrum[(freqs > cutoff) | (freqs < high)] = 0
    return np.fft.irfft(spectrum, len(x))


def _pink(rng: np.random.Generator, n: int) -> Signal:
    spectrum = np.fft.rfft(rng.standard_normal(n)) / np.sqrt(np.arange(1, n // 2 + 2))
    return np.fft.irfft(spectrum, n)


def _t(n: int) -> Signal:
    return np.arange(n) / RATE


def tone(rng: np.random.Generator, n: int) -> Signal:
    return np.sin(2 * np.pi * rng.uniform(250, 3000) * _t(n))


def chromium_beep(rng: np.random.Generator, n: int) -> Signal:
    """Chromium's fake audio device: a 400 Hz square beep, 20 ms long, every 500 ms."""
    t = _t(n)
    square = np.sign(np.sin(2 * np.pi * 400 * t))
    start = rng.uniform(0, 0.5)
    gate = ((t - start) % 0.5 < 0.02) & (t >= start)
    return square * gate


def beeps(rng: np.random.Generator, n: int) -> Signal:
    """Alarm, microwave and phone beeps: tone bursts of 80 to 300 ms, one or two tones."""
    t = _t(n)
    freqs = rng.uniform(600, 3200, size=2)
    length, gap = rng.uniform(0.08, 0.3), rng.uniform(0.1, 0.6)
    gate = (t % (length + gap)) < length
    two = float(rng.random() < 0.5)
    tones: Signal = np.sin(2 * np.pi * freqs[0] * t) + two * np.sin(2 * np.pi * freqs[1] * t)
    return tones * gate


def hum(rng: np.random.Generator, n: int) -> Signal:
    """Mains hum and buzz: 50 or 60 Hz and its harmonics, the odd ones strongest."""
    base = 50.0 if rng.random() < 0.5 else 60.0
    t = _t(n)
    out: Signal = np.zeros(n)
    for k in range(1, 12):
        out += (1.0 if k % 2 else 0.4) / k * np.sin(2 * np.pi * base * k * t + rng.uniform(0, 6))
    return out


def rumble(rng: np.random.Generator, n: int) -> Signal:
    """Traffic: noise below 80 to 250 Hz, swelling as vehicles pass."""
    x = _lowpass(rng.standard_normal(n), rng.uniform(80, 250), high=20)
    swell = 1 + 0.6 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * _t(n) + rng.uniform(0, 6))
    return x * swell


def wind(rng: np.random.Generator, n: int) -> Signal:
    """Wind on a microphone: low-frequency noise in gusts."""
    x = _lowpass(rng.standard_normal(n), rng.uniform(150, 400), high=10)
    gusts = _lowpass(rng.standard_normal(n), 2.0)
    return x * np.abs(gusts) / (np.std(gusts) + 1e-9)


def fan(rng: np.random.Generator, n: int) -> Signal:
    """Fans and air conditioning: broadband airflow rolled off above ~1 kHz, and the
    blade-pass tone with its harmonics."""
    air = _lowpass(_pink(rng, n), rng.uniform(600, 1500))
    blade = rng.uniform(80, 200)
    t = _t(n)
    tonal: Signal = np.zeros(n)
    for k in range(1, 5):
        tonal += np.sin(2 * np.pi * blade * k * t) / k
    return _unit(air) + 0.5 * _unit(tonal)


def typing(rng: np.random.Generator, n: int) -> Signal:
    """Keyboard typing: keystrokes 5 to 15 ms long, resonant, 4 to 9 per second."""
    x = np.zeros(n)
    at = 0.0
    while (start := int(at * RATE)) < n:
        length = int(rng.uniform(0.005, 0.015) * RATE)
        k = np.arange(length)
        ring = np.sin(2 * np.pi * rng.uniform(1000, 5000) * k / RATE)
        click = (rng.standard_normal(length) * 0.6 + ring) * np.exp(-k / (length / 4))
        end = min(n, start + length)
        x[start:end] += click[: end - start] * rng.uniform(0.5, 1.0)
        at += rng.uniform(0.11, 0.25)
    return x


def clicks(rng: np.random.Generator, n: int) -> Signal:
    """Mouse and pen clicks: single-sample impulses, a few per second."""
    x = np.zeros(n)
    x[rng.integers(0, n, size=max(1, n // 4000))] = 1.0
    return x


def music(rng: np.random.Generator, n: int) -> Signal:
    """Instrumental music: plucked and sustained notes with harmonics (a melody over
    chords, 110 Hz to 1 kHz), and a kick drum on the beat."""
    x = np.zeros(n)
    beat = 60 / rng.uniform(80, 140)
    scale = 220 * 2 ** (np.array([0, 2, 4, 5, 7, 9, 11, 12]) / 12)
    at = 0.0
    while (start := int(at * RATE)) < n:
        length = min(n - start, int(beat * RATE * rng.choice([0.5, 1, 2])))
        k = np.arange(length) / RATE
        for f0, gain in (
            (rng.choice(scale) * rng.choice([1, 2]), 1.0),
            (rng.choice(scale) / 2, 0.7),
        ):
            decay = np.exp(-k * rng.uniform(1.5, 6))
            note = sum(np.sin(2 * np.pi * f0 * h * k) / h**1.2 for h in range(1, 8))
            x[start : start + length] += gain * note * decay
        at += length / RATE
    kick_len = int(0.12 * RATE)
    k = np.arange(kick_len) / RATE
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-k * 30)) * k) * np.exp(-k * 25)
    for start in range(0, n - kick_len, int(beat * RATE)):
        x[start : start + kick_len] += 2 * kick
    return x


def cough(rng: np.random.Generator, n: int) -> Signal:
    """Coughs: bursts of breathy noise (most energy 0.4 to 2.5 kHz), sharp attack, ~70 ms
    decay, every 1 to 2 seconds."""
    x = np.zeros(n)
    at = rng.uniform(0.1, 0.5)
    while (start := int(at * RATE)) < n:
        length = min(n - start, int(rng.uniform(0.25, 0.4) * RATE))
        t = np.arange(length) / RATE
        burst = np.fft.rfft(rng.standard_normal(length))
        freqs = np.fft.rfftfreq(length, 1 / RATE)
        burst *= np.exp(-(((freqs - rng.uniform(900, 1500)) / 900) ** 2))
        shaped = np.fft.irfft(burst, length)
        x[start : start + length] = shaped * np.minimum(1, t / 0.01) * np.exp(-t / 0.07)
        at += rng.uniform(1.0, 2.0)
    return x


def white(rng: np.random.Generator, n: int) -> Signal:
    return rng.standard_normal(n)


def pink(rng: np.random.Generator, n: int) -> Signal:
    return _pink(rng, n)


CLASSES: dict[str, Callable[[np.random.Generator, int], Signal]] = {
    "tone": tone,
    "chromium-beep": chromium_beep,
    "beeps": beeps,
    "hum": hum,
    "rumble": rumble,
    "wind": wind,
    "fan": fan,
    "typing": typing,
    "cough": cough,
    "clicks": clicks,
    "music": music,
    "white": white,
    "pink": pink,
}
SNRS_DB = (20.0, 10.0, 0.0)  # noise up to the speech's own level


def sound(kind: str, seconds: float, level_dbfs: float = -30.0, seed: int = 0) -> Signal:
    """``seconds`` of class ``kind`` at ``level_dbfs`` RMS (float, full scale 1.0).
    Intermittent classes (beeps, typing) are scaled so that their bursts have that level."""
    rng = np.random.default_rng(seed)
    x = CLASSES[kind](rng, int(seconds * RATE))
    active = np.abs(x) > 1e-6 * np.max(np.abs(x)) if np.any(x) else np.ones(len(x), bool)
    rms = float(np.sqrt(np.mean(x[active] ** 2))) if np.any(active) else 1.0
    return x / rms * 10 ** (level_dbfs / 20)


def to_pcm(x: Signal) -> npt.NDArray[np.int16]:
    """Float audio (full scale 1.0) as 16-bit samples, clipped."""
    return (np.clip(x, -1, 1) * 32767).astype(np.int16)


def voiced_level_dbfs(speech: npt.NDArray[np.int16]) -> float:
    """The speech's level while it is voiced: RMS over its loudest half of 20 ms frames."""
    x = speech.astype(np.float64) / 32768
    frames = x[: len(x) // 320 * 320].reshape(-1, 320)
    energy = np.sort(np.mean(frames * frames, axis=1))[len(frames) // 2 :]
    return float(10 * np.log10(np.mean(energy) + 1e-12))


@dataclass(frozen=True)
class Mixed:
    pcm: npt.NDArray[np.int16]
    noise_alone: float  # seconds of noise before the speech starts
    onset: float  # labelled speech onset in the mix (seconds)


def mix(
    speech: npt.NDArray[np.int16],
    speech_onset: float,
    kind: str,
    snr_db: float,
    lead: float = 3.0,
    seed: int = 0,
) -> Mixed:
    """``kind`` alone for ``lead`` seconds, then ``speech`` over it at ``snr_db``."""
    level = voiced_level_dbfs(speech) - snr_db
    seconds = lead + len(speech) / RATE
    noise = sound(kind, seconds, level, seed)
    voice = np.concatenate([np.zeros(int(lead * RATE)), speech.astype(np.float64) / 32768])
    total = noise[: len(voice)] + voice
    return Mixed(to_pcm(total), lead, lead + speech_onset)
