"""How the server hears an A2A message's audio part (``agents.audio_parts.Hearing``): inline
bytes, or a URL fetched with the same address checks as push notifications (private,
loopback and link-local hosts refused unless allowed; each redirect checked again), at most
``max_bytes``; then decoded, cut by the voice detector and recognized (``media.audio_message``)
off the event loop.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urljoin

import httpx
from a2a.types import a2a_pb2 as pb

from agents.audio_parts import AudioProblem
from media.audio_message import AUDIO_TYPES, AudioRejected, decode_speech, transcribe
from media.stt import RecognitionError, SpeechToText
from media.vad import VadConfig
from server.api.push import url_problem

MAX_BYTES = 10 * 1024 * 1024
REDIRECTS = 3


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
        for _ in range(REDIRECTS + 1):
            if (why := await url_problem(url, self._allow_private)) is not None:
                raise AudioProblem(f"the audio URL cannot be fetched: {why}")
            try:
                async with self._http.stream("GET", url, follow_redirects=False) as response:
                    if response.is_redirect and "location" in response.headers:
                        try:
                            url = urljoin(url, response.headers["location"])
                        except ValueError as error:
                            raise AudioProblem(f"a redirect to a bad URL ({error})") from error
                        continue
                    if response.status_code != 200:
                        raise AudioProblem(f"the audio URL answered {response.status_code}")
                    data = bytearray()
                    async for chunk in response.aiter_bytes():
                        data += chunk
                        if len(data) > self._max_bytes:
                            raise AudioProblem(f"the audio is larger than {self._max_bytes} bytes")
                    return bytes(data)
            except httpx.HTTPError as error:
                raise AudioProblem(f"the audio URL could not be fetched ({error})") from error
        raise AudioProblem(f"the audio URL redirected more than {REDIRECTS} times")
