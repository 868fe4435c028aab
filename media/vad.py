"""Inbound stage 3: 20 ms 16 kHz frames → speech started / stopped, with the utterance audio.

webrtcvad alone fires on a recording's hiss, so each frame must also stand clear of an
adaptive noise floor (a slow-rising, fast-falling energy tracker) to count as speech, and it
must not be spectrally flat: a sudden burst of noise or a click clears the floor but is flat
(spectral flatness: white ≈ 0.56, pink ≈ 0.15 to 0.4 (after Opus), a click 1), while voiced
speech stays below 0.08 (p95, through Opus; median 0.001) on the fixtures. Onset
needs ``onset_frames`` consecutive speech frames; offset a ``hangover`` of non-speech. The
segmenter is pure: frames and their timestamps in, events out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import webrtcvad

from media.pcm import IN_FRAME, IN_RATE, Pcm

BLOCK_SAMPLES = IN_FRAME // 2  # webrtcvad judges 10 ms blocks: onsets resolve to 10 ms
BLOCK_SECONDS = BLOCK_SAMPLES / IN_RATE


@dataclass(frozen=True)
class VadConfig:
    aggressiveness: int = 3
    onset_blocks: int = 2  # consecutive 10 ms speech blocks that confirm an onset
    hangover: float = 0.5  # seconds of non-speech that end an utterance
    preroll: float = 0.3  # seconds kept before the onset
    margin_db: float = 10.0  # a speech frame stands this far above the noise floor
    min_level_db: float = -52.0  # and above this absolute level (dBFS)
    max_utterance: float = 20.0
    max_flatness: float = 0.1  # blocks flatter than this are noise, however loud


@dataclass(frozen=True)
class SpeechStarted:
    at: float  # detection time (end of the confirming frame)
    onset: float  # start of the first speech frame


@dataclass(frozen=True)
class SpeechStopped:
    at: float
    audio: Pcm  # preroll + speech + hangover, 16 kHz mono


VadEvent = SpeechStarted | SpeechStopped


_WINDOW = np.hanning(BLOCK_SAMPLES)


def spectral_flatness(block: Pcm) -> float:
    """Geometric over arithmetic mean of the power spectrum: ~0 for tones and voiced speech,
    ~0.56 for white noise, 1 for a click."""
    power = np.abs(np.fft.rfft(block.astype(np.float64) * _WINDOW[: len(block)])) ** 2 + 1e-9
    power = power[2:]  # below 200 Hz: DC and hum
    return float(np.exp(np.mean(np.log(power))) / np.mean(power))


def level_db(frame: Pcm) -> float:
    samples = frame.astype(np.float64)
    rms = float(np.sqrt(np.mean(samples * samples))) if len(samples) else 0.0
    return float(20.0 * np.log10(max(rms, 1.0) / 32768.0))


class NoiseFloor:
    """Tracks background level: falls at once to quieter frames, rises slowly otherwise."""

    def __init__(self, initial_db: float | None = None, rise_db_per_s: float = 3.0) -> None:
        self.db = initial_db
        self._rise = rise_db_per_s * BLOCK_SECONDS

    def update(self, db: float) -> None:
        if self.db is None:
            self.db = db
        elif db < self.db:
            self.db = db
        else:
            self.db = min(db, self.db + self._rise)


class VadSegmenter:
    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        self._vad = webrtcvad.Vad(self.config.aggressiveness)
        self.floor = NoiseFloor()
        size = max(1, round(self.config.preroll / BLOCK_SECONDS))
        self._preroll: deque[Pcm] = deque(maxlen=size)
        self._run = 0
        self._silence = 0
        self._speaking = False
        self._utterance: list[Pcm] = []
        self._started_at = 0.0
        self._voiced = 0

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def voiced(self) -> float:
        """Seconds of speech (not hangover) in the running utterance."""
        return self._voiced * BLOCK_SECONDS if self._speaking else 0.0

    def is_speech(self, frame: Pcm) -> bool:
        db = level_db(frame)
        floor = self.floor.db if self.floor.db is not None else db
        voiced = self._vad.is_speech(frame.tobytes(), IN_RATE)
        loud = db >= self.config.min_level_db and db >= floor + self.config.margin_db
        if not self._speaking or not voiced:
            self.floor.update(db)
        return voiced and loud and spectral_flatness(frame) < self.config.max_flatness

    def push(self, frame: Pcm, t: float) -> list[VadEvent]:
        """``frame``: 20 ms (320 samples); ``t``: the time at the frame's end."""
        if len(frame) != IN_FRAME:
            raise ValueError(f"frames are {IN_FRAME} samples, got {len(frame)}")
        events = self._push_block(frame[:BLOCK_SAMPLES], t - BLOCK_SECONDS)
        return events + self._push_block(frame[BLOCK_SAMPLES:], t)

    def flush(self, t: float) -> list[VadEvent]:
        """Ends a running utterance (the stream ended)."""
        if not self._speaking:
            return []
        self._speaking = False
        self._run = 0
        audio = np.concatenate(self._utterance)
        self._utterance = []
        return [SpeechStopped(at=t, audio=audio)]

    def _push_block(self, block: Pcm, t: float) -> list[VadEvent]:
        speech = self.is_speech(block)
        if not self._speaking:
            self._preroll.append(block)
            self._run = self._run + 1 if speech else 0
            if self._run >= self.config.onset_blocks:
                self._speaking = True
                self._silence = 0
                self._utterance = list(self._preroll)
                self._started_at = t
                self._voiced = self._run
                return [SpeechStarted(at=t, onset=t - self._run * BLOCK_SECONDS)]
            return []
        self._utterance.append(block)
        self._silence = 0 if speech else self._silence + 1
        self._voiced += speech
        too_long = t - self._started_at >= self.config.max_utterance
        if self._silence * BLOCK_SECONDS >= self.config.hangover or too_long:
            self._preroll.clear()
            return self.flush(t)
        return []
