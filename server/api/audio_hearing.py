"""How the server hears an A2A message's audio part (``agents.audio_parts.Hearing``): inline
bytes, or a URL fetched with the same address checks as push notifications (private,
loopback and link-local hosts refused unless allowed; each redirect checked again), at most
``max_bytes``; then decoded, cut by the voice detector and recognized (``media.audio_message``)
off the event loop.
"""

from __future__ import annotations

import asyncio

import httpx
from a2a.types import a2a_pb2 as pb

from agents.audio_parts import AudioProblem
from media.audio_message import AUDIO_TYPES, AudioRejected, decode_speech, transcribe
from media.stt import RecognitionError, SpeechToText
from media.vad import VadConfig
from server.http.checked_fetch import FetchRefused, fetch_checked

MAX_BYTES = 10 * 1024 * 1024


class AudioHearing:
    def __init__(
        self,
        stt: SpeechToText,
        vad: VadConfig,
        http: httpx.AsyncClient,
        allow_private: bool,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self._stt, self._vad, self._http = stt, vad, http
        self._allow_private = allow_private
        self._max_bytes = max_bytes

    async def hear(self, part: pb.Part) -> str:
        kind = part.media_type.lower().split(";")[0].strip()
        if kind not in AUDIO_TYPES:
            raise AudioProblem(
                f"{kind} is not an audio type this agent takes: {', '.join(AUDIO_TYPES)}"
            )
        if part.HasField("raw"):
            data = part.raw
        elif part.HasField("url"):
            data = await self._fetch(part.url)
        else:
            raise AudioProblem("an audio part needs its bytes (raw) or a URL")
        if len(data) > self._max_bytes:
            raise AudioProblem(f"the audio is larger than {self._max_bytes} bytes")
        try:
            pcm = await asyncio.to_thread(decode_speech, data)
            return await transcribe(self._stt, pcm, self._vad)
        except AudioRejected as rejected:
            raise AudioProblem(str(rejected)) from rejected
        except RecognitionError as error:
            raise AudioProblem(f"the recognizer failed: {error}") from error

    async def _fetch(self, url: str) -> bytes:
        try:
            return await fetch_checked(url, self._http, self._allow_private, self._max_bytes)
        except FetchRefused as refused:
            raise AudioProblem(f"the audio URL: {refused}") from refused
