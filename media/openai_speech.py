"""Speech engines behind any OpenAI-compatible audio endpoint (OpenAI, a local Whisper or TTS
server with the same API): ``/v1/audio/transcriptions`` and ``/v1/audio/speech``.

Requests block: a recognizer sends its utterance from a worker thread, and rooms synthesize
in worker threads as with the offline engine. The endpoint
gives no word timings, so the speech engine spreads the words over the clip by length; a turn
cut mid-sentence is then accurate to about a word.
"""

from __future__ import annotations

import asyncio
import io
import re
import wave
import zlib

import numpy as np
from openai import OpenAI, OpenAIError

from media.pcm import Pcm
from media.stt import RecognitionError, Recognizer
from media.tts import Speech, SynthesisError, WordTiming

PCM_RATE = 24000  # ``response_format="pcm"``: 24 kHz mono s16le
VOICES = ("alloy", "echo", "fable", "onyx", "nova", "shimmer")
_WORD = re.compile(r"\S+")


def wav_bytes(pcm: Pcm, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.astype(np.int16).tobytes())
    return buffer.getvalue()


class _Utterance:
    """Buffers the utterance; the endpoint transcribes it whole when it ends."""

    def __init__(self, engine: OpenAISpeechToText) -> None:
        self._engine = engine
        self._chunks: list[Pcm] = []

    async def feed(self, pcm: Pcm) -> str:
        self._chunks.append(pcm.astype(np.int16))
        return ""  # no partial results from a batch endpoint

    async def finish(self) -> str:
        if not self._chunks:
            return ""
        return await asyncio.to_thread(self._engine.transcribe, np.concatenate(self._chunks))


class OpenAISpeechToText:
    def __init__(
        self, model: str, base_url: str | None, api_key: str | None, timeout: float = 20.0
    ) -> None:
        self._model = model
        self._client = OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=1
        )

    def transcribe(self, pcm: Pcm) -> str:
        try:
            result = self._client.audio.transcriptions.create(
                model=self._model, file=("speech.wav", wav_bytes(pcm), "audio/wav")
            )
        except OpenAIError as error:
            raise RecognitionError(f"transcription endpoint failed: {error}") from error
        return str(getattr(result, "text", "") or "").strip()

    async def recognizer(self) -> Recognizer:
        return _Utterance(self)

    def warm(self, decoders: int = 2) -> None:
        return None


class OpenAITextToSpeech:
    """``voice``: the persona's voice; an endpoint voice name is used as is, any other name
    (an eSpeak voice) maps to one of the standard voices, the same one every time."""

    def __init__(
        self, model: str, base_url: str | None, api_key: str | None, timeout: float = 20.0
    ) -> None:
        self._model = model
        self._client = OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=1
        )

    @staticmethod
    def voice_for(voice: str) -> str:
        if voice in VOICES:
            return voice
        return VOICES[zlib.crc32(voice.encode()) % len(VOICES)]

    def synthesize(self, text: str, voice: str) -> Speech:
        try:
            response = self._client.audio.speech.create(
                model=self._model,
                voice=self.voice_for(voice),
                input=text,
                response_format="pcm",
            )
            audio = response.read()
        except OpenAIError as error:
            raise SynthesisError(f"speech endpoint failed: {error}") from error
        pcm = np.frombuffer(audio[: len(audio) // 2 * 2], np.int16).copy()
        return Speech(pcm, PCM_RATE, spread_words(text, len(pcm) / PCM_RATE))


def spread_words(text: str, duration: float) -> tuple[WordTiming, ...]:
    """Word start times in proportion to their length (the endpoint gives none)."""
    words = list(_WORD.finditer(text))
    total = sum(len(m.group()) + 1 for m in words) or 1
    timings, elapsed = [], 0
    for match in words:
        timings.append(WordTiming(match.group(), duration * elapsed / total, match.end()))
        elapsed += len(match.group()) + 1
    return tuple(timings)
