"""Inbound stage 3: 20 ms 16 kHz frames → speech started / stopped, with the utterance audio.

A 10 ms block counts as speech when three judges agree:

- webrtcvad calls it voiced (cheap, early; but it fires on hiss, tones, hums and rumble);
- its level in the speech band (700 Hz to 4 kHz) stands clear of an adaptive noise floor
  (slow-rising, fast-falling): rumble, wind, traffic and mains hum barely reach that band, and
  a steady sound there (a fan, a tone) becomes the floor;
- a small neural model (:mod:`media.speech_model`, Silero VAD) gives it a speech probability
  of at least ``speech_probability``; when the model is sure (``sure_probability``) the floor
  margin is waived, so a voice as loud as the noise under it is still heard.

Once someone speaks, webrtcvad may be overruled: a block the model is sure of, clear of the
floor and within ``near_voice_db`` of the voice's median level is voice whatever webrtcvad
says (it under-calls quiet voices: the end of "forward" said at -40 dBFS); a reverberant
tail, far under the voice, is not.

Measured on the noise corpus (``benchmarks/vad_noise.py``): the model rejects tones, beeps
(Chromium's fake microphone), typing, clicks, music and noise that webrtcvad and spectral
flatness let through. Onset needs ``onset_blocks`` consecutive speech blocks. The silence
that ends an utterance adapts (:mod:`media.end_of_turn`): with the end-of-turn model
(``judging``), a pause is judged when the answer can matter (``media.pause_judgments``;
``views_due()`` gives the views, ``judged()`` takes each answer) and the words so far
(``partial``, from the recognizer) second it; without it, short when the words or a falling
voice sound finished, long mid-sentence. The segmenter is pure: frames and their timestamps
in, events out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import webrtcvad

from media.end_of_turn import EndOfTurnConfig, Patience, silence_judged, silence_needed
from media.pause_judgments import PauseJudgments
from media.pcm import IN_FRAME, IN_RATE, Pcm
from media.pitch import SteadyPitch
from media.sentence_end import SentenceEnds
from media.sentence_end import load as load_sentence_ends
from media.speech_model import SpeechModel

BLOCK_SAMPLES = IN_FRAME // 2  # webrtcvad judges 10 ms blocks: onsets resolve to 10 ms
BLOCK_SECONDS = BLOCK_SAMPLES / IN_RATE


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
    sentence_ends: bool = True  # the words weighed by where sentences end (language model)
    near_voice_db: float = 6.0  # within an utterance, a block the model is sure of this
    # close to the voice's median level is voice, whatever webrtcvad says
    suspect_onsets: bool = True  # breath and frication before a voice are suspected onsets
    suspect_blocks: int = 3  # 10 ms blocks clear of the noise floor in a row, not yet called
    # voiced: an onset is suspected (the frication of "s", "sh", "f", breath of "h")
    suspect_window: float = 0.25  # …and cleared if speech is not confirmed this soon after
    suspect_flatness: float = 0.1  # …with a noise-like spectrum (breath, frication)


@dataclass(frozen=True)
class SpeechStarted:
    at: float  # detection time (end of the confirming frame)
    onset: float  # start of the first speech frame


@dataclass(frozen=True)
class SpeechStopped:
    at: float
    audio: Pcm  # preroll + speech + trailing silence, 16 kHz mono
    silence: float = 0.0  # seconds of trailing silence that ended it


@dataclass(frozen=True)
class SpeechSuspected:
    """Sound stands out of the noise floor in the speech band, steadily, but is not (yet)
    called voiced: the start of "s", "sh", "f", "h". ``SpeechStarted`` or
    ``SuspicionCleared`` follows within ``suspect_window``."""

    at: float
    onset: float


@dataclass(frozen=True)
class SuspicionCleared:
    """No speech came of the suspected onset."""

    at: float


VadEvent = SpeechStarted | SpeechStopped | SpeechSuspected | SuspicionCleared


# The model is not run on blocks this far below ``min_level_db`` (a silent microphone); it does
# hear the faint start of a voice, which is what lets it judge the first loud block at once.
REST_BELOW_DB = 30.0
_WINDOW = np.hanning(BLOCK_SAMPLES)
_BIN_HZ = IN_RATE / BLOCK_SAMPLES  # 100 Hz
_BAND = np.arange(round(700 / _BIN_HZ), round(4000 / _BIN_HZ) + 1)
# Above the speech band: the frication of "s", "f", "th" lies mostly over 4 kHz. It does not
# start an utterance, but it makes an onset suspected (``SpeechSuspected``).
_HIGH = np.arange(round(4000 / _BIN_HZ) + 1, round(7500 / _BIN_HZ) + 1)
_POWER_SCALE = 2.0 / (float(np.sum(_WINDOW**2)) * BLOCK_SAMPLES * 32768.0**2)
# Both bands' DFT bins as one matrix (windowed cosines, then sines): a block times it holds
# the real and imaginary parts of just those bins, so a frame's levels are one product.
_BINS = np.concatenate([_BAND, _HIGH])
_PHASE = 2 * np.pi * np.outer(np.arange(BLOCK_SAMPLES), _BINS) / BLOCK_SAMPLES
_BASIS = (np.hstack([np.cos(_PHASE), np.sin(_PHASE)]) * _WINDOW[:, None]).astype(np.float32)


def band_levels_db(blocks: Pcm) -> tuple[list[float], list[float], list[float]]:
    """The levels (dBFS) of each 10 ms block in ``blocks`` (consecutive ``BLOCK_SAMPLES``-sample
    blocks, e.g. a 20 ms frame): in the speech band, 700 Hz to 4 kHz, and above it, to 7.5 kHz;
    and each block's spectral flatness over both (near 0 for a tone or harmonics, about 0.5
    for noise, breath or frication)."""
    parts = blocks.reshape(-1, BLOCK_SAMPLES).astype(np.float32) @ _BASIS
    half = len(_BINS)
    power = parts[:, :half] ** 2 + parts[:, half:] ** 2  # per bin
    speech = power[:, : len(_BAND)].sum(axis=1) * _POWER_SCALE
    high = power[:, len(_BAND) :].sum(axis=1) * _POWER_SCALE
    power += 1e-20
    flatness = np.exp(np.log(power).mean(axis=1)) / power.mean(axis=1)
    return (
        (10.0 * np.log10(speech + 1e-12)).tolist(),
        (10.0 * np.log10(high + 1e-12)).tolist(),
        flatness.tolist(),
    )


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
        self._ends: SentenceEnds | None = (
            load_sentence_ends() if self.config.sentence_ends else None
        )
        self._ending = 1.0  # P(a sentence ends after ``partial``)
        self._pitch = SteadyPitch()
        self.floor = NoiseFloor()
        self.high_floor = NoiseFloor()  # above the speech band (see ``band_levels_db``)
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
        self._high_db = 0.0  # …and its level above the speech band
        self._stands_out = False  # the latest block is clear of the floor (not tonal)
        self._suspect_run = 0  # consecutive blocks that stood out
        self._armed = True  # a new suspicion may start (the sound stopped standing out since)
        self._suspected_at: float | None = None  # a suspected onset awaits its speech
        self._levels: list[float] = []  # speech-band level of the utterance's speech blocks
        self.judging = False  # an end-of-turn model judges pauses (see ``hear``)
        self.patience = Patience()  # the least silence that ends this person's turn
        self._judgments = PauseJudgments(self.config.end_of_turn, BLOCK_SECONDS)
        self._pause_told = 0  # the pause ``pause_began`` last told of (0: none running)

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

    def pause_began(self) -> bool:
        """A pause is running that began since the last call: its words are due (``hear``).
        Asking takes it: call once per frame. This also tells a pause that began within a
        frame after a blip of voice, where ``silent`` never reads 0 at a frame's end (and the
        end would otherwise be weighed with no words at all)."""
        running = self._judgments.number if self._speaking and self._silence else 0
        began = running not in (0, self._pause_told)
        self._pause_told = running
        return began

    def hear(self, partial: str) -> None:
        """The recognizer's words so far; words heard before a silence began are not trusted
        to end it (the last word may still be on its way)."""
        self.partial = partial
        self._ending = self._ends.probability(partial) if self._ends else 1.0
        self._fresh = True

    @property
    def fell(self) -> float:
        """dB the voice's last 100 ms lie below the utterance's median speech level."""
        if len(self._levels) < 20:
            return 0.0
        return float(np.median(self._levels) - np.mean(self._levels[-10:]))

    def _judge(self, block: Pcm, db: float, high_db: float, flatness: float) -> bool:
        """Takes in the 10 ms ``block``, whose speech-band level is ``db``, level above the
        band ``high_db`` and spectral flatness ``flatness`` (the noise floors, the speech
        model's and the pitch context's state move on), and says whether it is speech."""
        config = self.config
        self._db, self._high_db = db, high_db
        audible = db >= config.min_level_db
        if db >= config.min_level_db - REST_BELOW_DB or self._speaking:  # one stream while heard
            probability = self._model.feed(block)
        else:
            self._model.rest(block)
            probability = 0.0
        floor = self.floor.db if self.floor.db is not None else db
        high_floor = self.high_floor.db if self.high_floor.db is not None else high_db
        voiced = self._vad.is_speech(block.tobytes(), IN_RATE)
        if not self._speaking or not voiced:
            self.floor.update(db)
            self.high_floor.update(high_db)
        # Only an onset weighs the pitch context: while someone speaks it is not measured.
        tonal = self._pitch.push(block, audible and not self._speaking) >= config.tonal_context
        hissing = high_db >= config.min_level_db and high_db >= high_floor + config.margin_db
        clear = hissing or (audible and db >= floor + config.margin_db)
        # a suspected onset sounds like breath or frication: not a tone, not harmonics, not
        # periodic (a beep, a fan's blades, music, the voiced part of a cough)
        noisy = flatness >= config.suspect_flatness and not self._pitch.periodic
        self._stands_out = clear and not tonal and noisy
        sure = probability >= config.sure_probability
        if not voiced or not audible or probability < config.speech_probability:
            return self._speaking and sure and self._near_voice(db, floor)
        if tonal and not self._speaking:
            return sure
        return sure or db >= floor + config.margin_db

    def _near_voice(self, db: float, floor: float) -> bool:
        """Within an utterance, a block the model is sure of, clear of the noise floor and
        nearly as loud as the person's voice, is their voice though webrtcvad (which under-
        calls quiet voices) or the absolute level says not: the end of "forward" said at
        -40 dBFS. A reverberant tail, far under the voice, is not."""
        if db < floor + self.config.margin_db or len(self._levels) < 10:
            return False
        return db >= float(np.median(self._levels)) - self.config.near_voice_db

    def push(self, frame: Pcm, t: float) -> list[VadEvent]:
        """``frame``: 20 ms (320 samples); ``t``: the time at the frame's end."""
        if len(frame) != IN_FRAME:
            raise ValueError(f"frames are {IN_FRAME} samples, got {len(frame)}")
        levels = zip(*band_levels_db(frame), strict=True)
        first, second = frame[:BLOCK_SAMPLES], frame[BLOCK_SAMPLES:]
        events = self._push_block(first, *next(levels), t - BLOCK_SECONDS)
        return events + self._push_block(second, *next(levels), t)

    def flush(self, t: float) -> list[VadEvent]:
        """Ends a running utterance (the stream ended); a suspected onset is cleared."""
        if not self._speaking:
            if self._suspected_at is None:
                return []
            self._suspected_at = None
            return [SuspicionCleared(at=t)]
        self._speaking = False
        self._run = 0
        self._armed = False  # what trails the utterance (a breath) is no new suspicion
        audio = np.concatenate(self._utterance)
        self._utterance, self._levels, self.partial = [], [], ""
        return [SpeechStopped(at=t, audio=audio, silence=self._silence * BLOCK_SECONDS)]

    def _push_block(
        self, block: Pcm, db: float, high_db: float, flatness: float, t: float
    ) -> list[VadEvent]:
        speech = self._judge(block, db, high_db, flatness)
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
                self._suspected_at = None
                return [SpeechStarted(at=t, onset=t - self._run * BLOCK_SECONDS)]
            return self._suspect(t)
        self._utterance.append(block)
        self._silence = 0 if speech else self._silence + 1
        if self._silence == 1:  # a pause begins: its words and judgment are still to come
            self._fresh = False
            self._judgments.began()
        self._voiced += speech
        if speech and len(self._levels) < 6000:
            self._levels.append(self._db)
        too_long = t - self._started_at >= self.config.max_utterance
        if self._over() or too_long:
            self._preroll.clear()
            return self.flush(t)
        return []

    def _suspect(self, t: float) -> list[VadEvent]:
        """Before an onset: a steady sound clear of the floor is suspected to be one; cleared
        when no speech follows in ``suspect_window``. A new suspicion needs the sound to have
        stopped standing out first (a noise that rose is suspected once, not over and over)."""
        if not self.config.suspect_onsets:
            return []
        self._suspect_run = self._suspect_run + 1 if self._stands_out else 0
        self._armed = self._armed or not self._stands_out
        if self._suspected_at is not None:
            if t - self._suspected_at < self.config.suspect_window:
                return []
            self._suspected_at = None
            self._armed = False
            self._absorb()
            return [SuspicionCleared(at=t)]
        if self._armed and self._suspect_run == self.config.suspect_blocks:
            self._suspected_at = t
            return [SpeechSuspected(at=t, onset=t - self._suspect_run * BLOCK_SECONDS)]
        return []

    def _absorb(self) -> None:
        """What stood out for a whole suspicion and was no voice is background: the noise
        floors rise to it at once (they fall again as fast as it goes)."""
        for floor, db in ((self.floor, self._db), (self.high_floor, self._high_db)):
            floor.db = db if floor.db is None else max(floor.db, db)

    def _over(self) -> bool:
        silence = self._silence * BLOCK_SECONDS
        end = self.config.end_of_turn
        if silence < min(end.complete, end.unsure):
            return False
        words, ending = (self.partial, self._ending) if self._fresh else ("", 1.0)
        if self.judging:
            judgments = self._judgments
            finished = judgments.finished if judgments.enough else None
            needed = silence_judged(finished, words, self.fell, end, ending)
        else:
            needed = silence_needed(words, self.fell, end, ending)
        return silence >= max(needed, self.patience.least)

    def views_due(self) -> tuple[int, list[Pcm]] | None:
        """The end-of-turn model's views of the running pause that are due now (each once,
        when its answer can first matter: ``media.pause_judgments``): the pause's number and
        the utterance up to each view's point. Asking takes them: call once per frame."""
        if not self._speaking or self._silence == 0:
            return None
        views = self._judgments.due(self._silence, self._soonest_end)
        if not views:
            return None
        audio = np.concatenate(self._utterance)
        drops = [self._judgments.point(self._silence, v) * BLOCK_SAMPLES for v in views]
        return self._judgments.number, [audio[: len(audio) - drop] for drop in drops]

    def _soonest_end(self) -> float | None:
        """The soonest end a judgment of the running pause could allow, given its words (None:
        they are not in yet)."""
        if not self._fresh:
            return None
        end = self.config.end_of_turn
        soonest = silence_judged(1.0, self.partial, self.fell, end, self._ending)
        return max(soonest, self.patience.least)

    def judged(self, pause: int, finished: float) -> None:
        """The model's probability that the person finished, from one view of pause ``pause``
        (a stale judgment, from before the voice came back, is dropped)."""
        if self._speaking and self._silence > 0:
            self._judgments.judged(pause, finished)
