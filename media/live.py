"""A person's voice in the room's mix: their inbound audio as 48 kHz mono 20 ms frames.

The inbound path hands every decoded frame to ``push`` (it is also sliced to 16 kHz for the
VAD, separately); the room's clock takes one frame per tick with ``read``. Two frames are
buffered before reading starts, so the inbound packets' jitter does not tear the voice, and
at most ``MAX_BACKLOG`` are kept, so it never lags behind. Frames under ``GATE`` are not
mixed: a quiet open microphone adds nothing to what everyone hears.
"""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt

from media.pcm import OUT_FRAME, OUT_RATE, Pcm

GATE = 100  # peak sample level (about -50 dBFS) below which a frame is left out of the mix
PREFETCH = 2  # frames buffered before reading (re)starts
MAX_BACKLOG = 4  # frames kept at most; older audio is dropped


class LiveVoice:
    def __init__(self) -> None:
        self._pending = np.zeros(0, np.int16)
        self._resampler: av.AudioResampler | None = None
        self._reading = False

    def push(self, frame: av.AudioFrame) -> None:
        pcm = self._to_48k_mono(frame)
        if len(pcm):
            self._pending = np.concatenate([self._pending, pcm])[-MAX_BACKLOG * OUT_FRAME :]

    def read(self) -> Pcm | None:
        """The next 20 ms, or None (nothing buffered, or too quiet to mix)."""
        if not self._reading and len(self._pending) < PREFETCH * OUT_FRAME:
            return None
        if len(self._pending) < OUT_FRAME:
            self._reading = False  # ran dry: buffer again before the next frame
            return None
        self._reading = True
        pcm, self._pending = self._pending[:OUT_FRAME], self._pending[OUT_FRAME:]
        return pcm if int(np.abs(pcm).max()) > GATE else None

    def _to_48k_mono(self, frame: av.AudioFrame) -> Pcm:
        if frame.sample_rate == OUT_RATE and frame.format.name == "s16":
            samples: Pcm = frame.to_ndarray().reshape(-1).view(np.int16)  # s16: int16 already
            channels = len(frame.layout.channels)
            if channels == 1:
                return samples.astype(np.int16, copy=False)
            if channels == 2:  # what aiortc's Opus decoder gives: halves, added in int16
                halves: Pcm = (samples[0::2] >> 1) + (samples[1::2] >> 1)
                return halves
            wide: npt.NDArray[np.int32] = samples.reshape(-1, channels).astype(np.int32)
            mono: Pcm = (wide.sum(axis=1) // channels).astype(np.int16)
            return mono
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=OUT_RATE)
        chunks = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)
