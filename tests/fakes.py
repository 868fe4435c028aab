"""Fake engines for tests about something else: a brain, speech to text, text to speech, and
a track that hands over a clip as fast as it is read (no real-time pacing)."""

from __future__ import annotations

import asyncio
import fractions
import threading
from collections.abc import AsyncIterator, Sequence

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from agents.brains.brain import BrainError, BrainRequest
from media.pcm import IN_FRAME, IN_RATE, OUT_RATE, Pcm
from media.stt import RecognitionError, Recognizer
from media.tts import Speech, SynthesisError, WordTiming


class FakeBrain:
    """Streams ``text`` word by word; fails after ``fail_after`` words when set."""

    label = "fake"

    def __init__(self, text: str = "One two three. Four five six.", fail_after: int | None = None):
        self.text = text
        self.fail_after = fail_after
        self.requests: list[BrainRequest] = []

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        for index, word in enumerate(self.text.split(" ")):
            if self.fail_after is not None and index >= self.fail_after:
                raise BrainError("the fake backend is down")
            await asyncio.sleep(0)
            yield word if index == 0 else " " + word

    async def aclose(self) -> None:
        return None


class _FakeRecognizer:
    def __init__(self, owner: FakeSpeechToText) -> None:
        self._owner = owner
        self._samples = 0

    async def feed(self, pcm: Pcm) -> str:
        self._samples += len(pcm)
        words = self._owner.words[: int(self._samples / IN_RATE / self._owner.seconds_per_word)]
        return " ".join(words)

    async def finish(self) -> str:
        if self._owner.fail:
            raise RecognitionError("the fake recognizer broke")
        return " ".join(self._owner.words) if self._samples else ""


class FakeSpeechToText:
    """Recognizes ``words``, one more partial word every ``seconds_per_word`` of audio."""

    def __init__(
        self, words: Sequence[str] = (), seconds_per_word: float = 0.3, fail: bool = False
    ) -> None:
        self.words = list(words)
        self.seconds_per_word = seconds_per_word
        self.fail = fail

    async def recognizer(self) -> Recognizer:
        return _FakeRecognizer(self)

    def warm(self, decoders: int = 2) -> None:
        return None


class _GatedRecognizer(_FakeRecognizer):
    def __init__(self, owner: FakeSpeechToText, gate: threading.Event) -> None:
        super().__init__(owner)
        self._gate = gate

    async def feed(self, pcm: Pcm) -> str:
        if not self._gate.is_set():
            await asyncio.to_thread(self._gate.wait, GATE_SECONDS)
        return await super().feed(pcm)


GATE_SECONDS = 30.0  # a gate left shut opens by itself after this (a failing test ends)


class GatedSpeechToText(FakeSpeechToText):
    """A recognizer that hears nothing until ``gate`` opens (a decoder starved of CPU, or
    still loading), then catches up at once; its words as :class:`FakeSpeechToText`'s. The
    gate is a thread's event: a server on a loop of its own may wait on it."""

    def __init__(self, words: Sequence[str] = (), seconds_per_word: float = 0.3) -> None:
        super().__init__(words, seconds_per_word)
        self.gate = threading.Event()

    async def recognizer(self) -> Recognizer:
        return _GatedRecognizer(self, self.gate)


class _TimedRecognizer:
    def __init__(self, words: Sequence[tuple[float, str]]) -> None:
        self._words = words
        self._seconds = 0.0

    async def feed(self, pcm: Pcm) -> str:
        self._seconds += len(pcm) / IN_RATE
        return self._heard()

    async def finish(self) -> str:
        return self._heard()

    def _heard(self) -> str:
        return " ".join(word for at, word in self._words if at <= self._seconds)


class TimedSpeechToText:
    """Recognizes each word once ``at`` seconds of the utterance have been fed to it: a
    person's words on a timeline, for tests about what happens around them. ``later``: the
    words of the second utterance, the third, … (the last list goes on for any after it)."""

    def __init__(
        self, words: Sequence[tuple[float, str]], *later: Sequence[tuple[float, str]]
    ) -> None:
        self.words = list(words)
        self._utterances = [self.words, *map(list, later)]

    async def recognizer(self) -> Recognizer:
        words = self._utterances.pop(0) if len(self._utterances) > 1 else self._utterances[0]
        return _TimedRecognizer(words)

    def warm(self, decoders: int = 2) -> None:
        return None


class FakeTextToSpeech:
    """A loud 150 ms tone per word at 48 kHz, with exact word timings."""

    def __init__(self, seconds_per_word: float = 0.15, fail: bool = False) -> None:
        self.seconds_per_word = seconds_per_word
        self.fail = fail
        self.phrases: list[str] = []

    def synthesize(self, text: str, voice: str) -> Speech:
        if self.fail:
            raise SynthesisError("the fake voice is hoarse")
        self.phrases.append(text)
        timings, offset = [], 0
        for index, word in enumerate(text.split()):
            offset = text.index(word, offset) + len(word)
            timings.append(WordTiming(word, index * self.seconds_per_word, offset))
        samples = round(len(timings) * self.seconds_per_word * OUT_RATE)
        pcm = (np.sin(np.arange(samples) * 0.05) * 10000).astype(np.int16)
        return Speech(pcm, OUT_RATE, tuple(timings))


class ClipTrack(MediaStreamTrack):
    """Hands over a 16 kHz clip in 20 ms frames as fast as they are read, then ends."""

    kind = "audio"

    def __init__(self, pcm: Pcm, hold: asyncio.Event | None = None) -> None:
        super().__init__()
        self._pcm = pcm
        self._pts = 0
        self._hold = hold  # when set: after the clip, wait for it instead of ending

    async def recv(self) -> av.AudioFrame:
        if self._pts >= len(self._pcm):
            if self._hold is None:
                raise MediaStreamError
            await self._hold.wait()
            raise MediaStreamError
        chunk = self._pcm[self._pts : self._pts + IN_FRAME]
        chunk = np.concatenate([chunk, np.zeros(IN_FRAME - len(chunk), np.int16)])
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = IN_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, IN_RATE)
        self._pts += IN_FRAME
        await asyncio.sleep(0)
        return frame
