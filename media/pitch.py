"""Steady pitch: what tells a held musical note, a tone or a hum from a voice.

A voice's pitch drifts all the time; an instrument holds a note (and a beep or hum never
moves). :class:`SteadyPitch` estimates the pitch of each 10 ms block (autocorrelation over
the last 32 ms, 70 to 500 Hz) and reports how much of the recent past held a steady,
strongly periodic pitch: music and tones score high, speech stays near zero. Pure: blocks in,
a fraction out.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from media.pcm import IN_RATE, Pcm

WINDOW = 512  # 32 ms
_LAGS = slice(IN_RATE // 500, IN_RATE // 70)


def pitch(window: np.ndarray) -> tuple[float, float]:
    """(pitch in Hz, periodicity 0..1) of ``window``; (0, 0) for silence."""
    x = window - window.mean()
    spectrum = np.fft.rfft(x, 2 * len(x))
    corr = np.fft.irfft(np.abs(spectrum) ** 2)[: len(x)]
    if corr[0] <= 0:
        return 0.0, 0.0
    lag = _LAGS.start + int(np.argmax(corr[_LAGS]))
    a, b, c = corr[lag - 1], corr[lag], corr[lag + 1]
    bend = a - 2 * b + c
    shift = (a - c) / (2 * bend) if bend != 0 else 0.0
    return IN_RATE / (lag + shift), float(b / corr[0])


class SteadyPitch:
    def __init__(
        self, hold: int = 4, tolerance: float = 0.01, periodic: float = 0.6, memory: int = 50
    ) -> None:
        self._hold = hold  # blocks a pitch must hold (40 ms) to count as steady
        self._tolerance = tolerance  # relative spread allowed while holding
        self._periodic = periodic
        self._samples: deque[Pcm] = deque(maxlen=WINDOW // 160 + 1)
        self._pitches: deque[float] = deque(maxlen=hold)
        self._steady: deque[bool] = deque(maxlen=memory)  # the last 500 ms
        self._held = 0  # how many of them held a steady pitch
        self.periodic = False  # the latest block (measured: audible) was strongly periodic

    @property
    def fraction(self) -> float:
        """Share of the recent blocks that held a steady pitch."""
        return self._held / len(self._steady) if self._steady else 0.0

    def push(self, block: Pcm, audible: bool) -> float:
        """Adds a 10 ms block (``audible``: worth measuring); returns :attr:`fraction`."""
        self._samples.append(block)
        steady = self.periodic = False
        if audible and sum(len(b) for b in self._samples) >= WINDOW:
            f0, strength = pitch(np.concatenate(self._samples)[-WINDOW:].astype(np.float64))
            self.periodic = strength >= self._periodic
            self._pitches.append(f0 if strength >= self._periodic else 0.0)
            held = list(self._pitches)
            if len(held) == self._hold and min(held) > 0:
                steady = (max(held) - min(held)) / float(np.mean(held)) < self._tolerance
        elif self._pitches:
            self._pitches.clear()
        if len(self._steady) == self._steady.maxlen:
            self._held -= self._steady[0]
        self._steady.append(steady)
        self._held += steady
        return self.fraction
