"""Inbound stage 3: 20 ms 16 kHz frames → speech started / stopped, with the utterance audio.

A 10 ms block counts as speech when three judges agree:

- webrtcvad calls it voiced (cheap, early; but it fires on hiss, tones, hums and rumble);
- its level in the speech band (700 Hz to 4 kHz) stands clear of an adaptive noise floor
  (slow-rising, fast-falling): rumble, wind, traffic and mains hum barely reach that band, and
  a steady sound there (a fan, a tone) becomes the floor;
- a small neural model (:mod:`media.speech_model`, Silero VAD) gives it a speech probability
  of at least ``speech_probability``; when the model is sure (``sure_probability``) the floor
  margin is waived, so a voice as loud as the noise under it is still heard.

Measured on the noise corpus (``benchmarks/vad_noise.py``): the model rejects tones, beeps
(Chromium's fake microphone), typing, clicks, music and noise that webrtcvad and spectral
flatness let through. Onset needs ``onset_blocks`` consecutive speech blocks. The silence
that ends an utterance adapts (:mod:`media.end_of_turn`): with the end-of-turn model
(``judging``), a pause that reaches ``judge_after`` is judged (``pause()`` gives the audio,
``judged()`` takes the answer) and the words so far (``partial``, from the recognizer) second
it; without it, short when the words or a falling voice sound finished, long mid-sentence.
The segmenter is pure: frames and their timestamps in, events out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import webrtcvad

from media.end_of_turn import EndOfTurnConfig, silence_judged, silence_needed
from media.pcm import IN_FRAME, IN_RATE, Pcm
from media.pitch import SteadyPitch
from media.speech_model import SpeechModel

BLOCK_SAMPLES = IN_FRAME // 2  # webrtcvad judges 10 ms blocks: onsets resolve to 10 ms
BLOCK_SECONDS = BLOCK_SAMPLES / IN_RATE
BLOCKS_PER_FRAME = IN_FRAME // BLOCK_SAMPLES


@dataclass(frozen=True)
class VadConfig:
    aggressiveness: int = 3
    onset_blocks: int = 2  # consecutive 10 ms speech blocks that confirm an onset
    end_of_turn: EndOfTurnConfig = field(default_factory=EndOfTurnConfig)  # ends utterances
    preroll: float = 0.3  # seconds kept before the onset
    margin_db: float = 6.0  # speech-band level this far above its noise floor
    min_level_db: float = -55.0  # and above this absolute level (dBFS, speech band)
    max_utterance: float = 20.0
    speech_probability: float = 0.2  # the model's least probability for a speech block
    sure_probability: float = 0.7  # above it, the floor margin is waived
    tonal_context: float = 0.2  # this share of steady pitch lately: music or tones play,
    # and an onset needs ``sure_probability``
    turn_model: bool = True  # pauses judged by the end-of-turn model, when it is installed
    turn_weights: Path | None = None  # its weights (default: the installed ones)


@dataclass(frozen=True)
class SpeechStarted:
    at: float  # detection time (end of the confirming frame)
    onset: float  # start of the first speech frame


@dataclass(frozen=True)
class SpeechStopped:
    at: float
    audio: Pcm  # preroll + speech + trailing silence, 16 kHz mono
    silence: float = 0.0  # seconds of trailing silence that ended it


VadEvent = SpeechStarted | SpeechStopped


# The model is not run on blocks this far below ``min_level_db`` (a silent microphone); it does
# hear the faint start of a voice, which is what lets it judge the first loud block at once.
REST_BELOW_DB = 30.0
_WINDOW = np.hanning(BLOCK_SAMPLES)
_BIN_HZ = IN_RATE / BLOCK_SAMPLES  # 100 Hz
_BAND = np.arange(round(700 / _BIN_HZ), round(4000 / _BIN_HZ) + 1)
_POWER_SCALE = 2.0 / (float(np.sum(_WINDOW**2)) * BLOCK_SAMPLES * 32768.0**2)
# The band's DFT bins as one matrix (windowed cosines, then sines): a block times it holds
# the real and imaginary parts of just those bins, so a frame's levels are one product.
_PHASE = 2 * np.pi * np.outer(np.arange(BLOCK_SAMPLES), _BAND) / BLOCK_SAMPLES
_BAND_BASIS = (np.hstack([np.cos(_PHASE), np.sin(_PHASE)]) * _WINDOW[:, None]).astype(np.float32)


def band_levels_db(blocks: Pcm) -> list[float]:
    """The level (dBFS) in the speech band, 700 Hz to 4 kHz, of each 10 ms block in
    ``blocks`` (consecutive ``BLOCK_SAMPLES``-sample blocks, e.g. a 20 ms frame)."""
    parts = blocks.reshape(-1, BLOCK_SAMPLES).astype(np.float32) @ _BAND_BASIS
    power = np.einsum("ij,ij->i", parts, parts) * _POWER_SCALE
    levels: list[float] = (10.0 * np.log10(power + 1e-12)).tolist()
    return levels


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
        """Loads the speech model (~50 ms): make segmenters off the event loop."""
        self.config = config or VadConfig()
        self._vad = webrtcvad.Vad(self.config.aggressiveness)
        self._model = SpeechModel()
        self._pitch = SteadyPitch()
        self.floor = NoiseFloor()
        size = max(1, round(self.config.preroll / BLOCK_SECONDS))
        self._preroll: deque[Pcm] = deque(maxlen=size)
        self._run = 0
        self._silence = 0
        self._speaking = False
        self._utterance: list[Pcm] = []
        self._started_at = 0.0
        self._voiced = 0
        self.partial = ""  # the running utterance's words so far (see ``hear``)
        self._fresh = False  # ``partial`` covers the speech up to the running silence
        self._db = 0.0  # the latest block's speech-band level
        self._levels: list[float] = []  # speech-band level of the utterance's speech blocks
        self.judging = False  # an end-of-turn model judges pauses (see ``hear``)
        self._pause = 0  # the running pause's number
        self._finished: float | None = None  # the model's judgment of the running pause

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def voiced(self) -> float:
        """Seconds of speech (not hangover) in the running utterance."""
        return self._voiced * BLOCK_SECONDS if self._speaking else 0.0

    @property
    def silent(self) -> float:
        """Seconds of trailing silence in the running utterance (0 while voiced)."""
        return self._silence * BLOCK_SECONDS if self._speaking else 0.0

    def hear(self, partial: str) -> None:
        """The recognizer's words so far; words heard before a silence began are not trusted
        to end it (the last word may still be on its way)."""
        self.partial = partial
        self._fresh = True

    @property
    def fell(self) -> float:
        """dB the voice's last 100 ms lie below the utterance's median speech level."""
        if len(self._levels) < 20:
            return 0.0
        return float(np.median(self._levels) - np.mean(self._levels[-10:]))

    def _judge(self, block: Pcm, db: float) -> bool:
        """Takes in the 10 ms ``block``, whose speech-band level is ``db`` (the noise floor,
        the speech model's and the pitch context's state move on), and says whether it is
        speech."""
        config = self.config
        self._db = db
        audible = db >= config.min_level_db
        if db >= config.min_level_db - REST_BELOW_DB or self._speaking:  # one stream while heard
            probability = self._model.feed(block)
        else:
            self._model.rest(block)
            probability = 0.0
        floor = self.floor.db if self.floor.db is not None else db
        voiced = self._vad.is_speech(block.tobytes(), IN_RATE)
        if not self._speaking or not voiced:
            self.floor.update(db)
        # Only an onset weighs the pitch context: while someone speaks it is not measured.
        tonal = self._pitch.push(block, audible and not self._speaking) >= config.tonal_context
        if not voiced or not audible or probability < config.speech_probability:
            return False
        sure = probability >= config.sure_probability
        if tonal and not self._speaking:
            return sure
        return sure or db >= floor + config.margin_db

    def push(self, frame: Pcm, t: float) -> list[VadEvent]:
        """``frame``: 20 ms (320 samples); ``t``: the time at the frame's end."""
        if len(frame) != IN_FRAME:
            raise ValueError(f"frames are {IN_FRAME} samples, got {len(frame)}")
        first, second = band_levels_db(frame)
        events = self._push_block(frame[:BLOCK_SAMPLES], first, t - BLOCK_SECONDS)
        return events + self._push_block(frame[BLOCK_SAMPLES:], second, t)

    def flush(self, t: float) -> list[VadEvent]:
        """Ends a running utterance (the stream ended)."""
        if not self._speaking:
            return []
        self._speaking = False
        self._run = 0
        audio = np.concatenate(self._utterance)
        self._utterance, self._levels, self.partial = [], [], ""
        return [SpeechStopped(at=t, audio=audio, silence=self._silence * BLOCK_SECONDS)]

    def _push_block(self, block: Pcm, db: float, t: float) -> list[VadEvent]:
        speech = self._judge(block, db)
        if not self._speaking:
            self._preroll.append(block)
            self._run = self._run + 1 if speech else 0
            sure = speech and self._model.probability >= self.config.sure_probability
            if self._run >= self.config.onset_blocks or sure:
                self._speaking = True
                self._silence = 0
                self._utterance = list(self._preroll)
                self._started_at = t
                self._voiced = self._run
                return [SpeechStarted(at=t, onset=t - self._run * BLOCK_SECONDS)]
            return []
        self._utterance.append(block)
        self._silence = 0 if speech else self._silence + 1
        if self._silence == 1:  # a pause begins: its words and judgment are still to come
            self._fresh = False
            self._pause += 1
            self._finished = None
        self._voiced += speech
        if speech and len(self._levels) < 6000:
            self._levels.append(self._db)
        too_long = t - self._started_at >= self.config.max_utterance
        if self._over() or too_long:
            self._preroll.clear()
            return self.flush(t)
        return []

    def _over(self) -> bool:
        silence = self._silence * BLOCK_SECONDS
        end = self.config.end_of_turn
        if silence < min(end.complete, end.unsure):
            return False
        words = self.partial if self._fresh else ""
        if self.judging:
            return silence >= silence_judged(self._finished, words, self.fell, end)
        return silence >= silence_needed(words, self.fell, end)

    @property
    def judgeable(self) -> bool:
        """The running pause has just grown long enough for the end-of-turn model: true for
        exactly one frame of each pause that lasts (a frame holds two blocks)."""
        due = round(self.config.end_of_turn.judge_after / BLOCK_SECONDS)
        return self._speaking and due <= self._silence < due + BLOCKS_PER_FRAME

    def pause(self) -> tuple[int, Pcm]:
        """The running pause's number and the utterance so far (for the end-of-turn model)."""
        return self._pause, np.concatenate(self._utterance)

    def judged(self, pause: int, finished: float) -> None:
        """The model's probability that the person finished, for pause ``pause`` (a stale
        judgment, from before the voice came back, is dropped)."""
        if self._speaking and pause == self._pause and self._silence > 0:
            self._finished = finished
