"""A local OpenAI-compatible audio endpoint: transcriptions and speech, over real HTTP."""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from media.tts import EspeakTextToSpeech


class FakeAudioApi:
    """Transcribes every utterance as ``transcript``; speaks with eSpeak NG at 24 kHz PCM.
    ``fail`` makes both answer 500."""

    def __init__(self, transcript: str) -> None:
        self.transcript = transcript
        self.fail = False
        self.uploads: list[dict[str, Any]] = []
        self.spoken: list[dict[str, Any]] = []
        self._tts = EspeakTextToSpeech()
        self.app = Starlette(
            routes=[
                Route("/v1/audio/transcriptions", self.transcribe, methods=["POST"]),
                Route("/v1/audio/speech", self.speak, methods=["POST"]),
            ]
        )

    async def transcribe(self, request: Request) -> Response:
        async with request.form() as form:
            upload = form["file"]
            data = await upload.read()  # type: ignore[union-attr]
            model = form["model"]
        with wave.open(io.BytesIO(data)) as wav:
            self.uploads.append(
                {
                    "model": model,
                    "rate": wav.getframerate(),
                    "channels": wav.getnchannels(),
                    "seconds": wav.getnframes() / wav.getframerate(),
                }
            )
        if self.fail:
            return JSONResponse({"error": {"message": "overloaded"}}, status_code=500)
        return JSONResponse({"text": self.transcript})

    async def speak(self, request: Request) -> Response:
        body = await request.json()
        self.spoken.append(body)
        if self.fail:
            return JSONResponse({"error": {"message": "overloaded"}}, status_code=500)
        speech = self._tts.synthesize(body["input"], "en-us")
        count = round(len(speech.pcm) * 24000 / speech.sample_rate)
        positions = np.linspace(0, len(speech.pcm) - 1, count)
        pcm = np.interp(positions, np.arange(len(speech.pcm)), speech.pcm).astype(np.int16)
        return Response(pcm.tobytes(), media_type="audio/pcm")
