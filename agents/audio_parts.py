"""A2A messages that speak: audio parts heard before the turn starts.

A part whose media type is ``audio/*`` (inline bytes or a URL) is handed to the server's
``Hearing`` (decode, voice detector, recognizer); what was heard is added to the message as a
text part (what the agent answers) and listed in its metadata (``heard``: the part's index and
text). Audio that cannot be heard is the client's mistake: -32602 naming the part and why,
before any task exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import InvalidParamsError

from media.phrasing import Phraser

log = logging.getLogger(__name__)

# Speaks an answer for a client that accepts audio: (text, voice, accepted output modes) →
# (file bytes, media type), or None when none of the accepted modes is audio it makes.
Voicer = Callable[[str, str, list[str]], Awaitable[tuple[bytes, str] | None]]


class AudioProblem(Exception):
    """The part's audio cannot be heard; ``str(error)`` says why."""


class Hearing(Protocol):
    async def hear(self, part: pb.Part) -> str:
        """What was said in the audio ``part`` (``AudioProblem`` if it cannot be heard)."""
        ...


def audio_parts(message: pb.Message) -> list[tuple[int, pb.Part]]:
    return [
        (index, part)
        for index, part in enumerate(message.parts)
        if part.media_type.lower().startswith("audio/")
    ]


async def heard(params: pb.SendMessageRequest, hearing: Hearing | None) -> pb.SendMessageRequest:
    """``params`` with what its audio parts said added as text (unchanged without audio)."""
    spoken = audio_parts(params.message)
    if not spoken:
        return params
    if hearing is None:
        raise InvalidParamsError(message="this agent does not take audio; send text")
    texts: list[tuple[int, str]] = []
    for index, part in spoken:
        try:
            texts.append((index, await hearing.hear(part)))
        except AudioProblem as problem:
            why = f"message part {index} ({part.media_type}): {problem}"
            raise InvalidParamsError(message=why) from problem
    rewritten = pb.SendMessageRequest()
    rewritten.CopyFrom(params)
    rewritten.message.parts.append(pb.Part(text=" ".join(text for _, text in texts)))
    listed = rewritten.message.metadata.get_or_create_list("heard")
    for index, text in texts:
        listed.add_struct().update({"part": index, "text": text})
    return rewritten


class SpokenAnswer:
    """An answer spoken phrase by phrase as its text streams, for a client that accepts audio:
    each phrase's audio becomes the next part of the turn's ``speech`` artifact (appended), so
    a streaming client hears the answer before it has ended. One background task per turn
    voices the phrases in order; the turn owns it (``finish`` or ``close``)."""

    def __init__(
        self,
        voicer: Voicer,
        voice: str,
        accepted: list[str],
        emit: Callable[[pb.Part, bool], Awaitable[None]],
        name: str,
    ) -> None:
        self._voicer, self._voice, self._accepted = voicer, voice, accepted
        self._emit = emit  # (part, append)
        self._name = name  # the file name's stem
        self._phraser = Phraser()
        self._phrases: asyncio.Queue[str | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.parts = 0

    def push(self, text: str) -> None:
        for phrase in self._phraser.push(text, idle=False):
            self._queue(phrase)

    def _queue(self, phrase: str) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._voice_all())
        self._phrases.put_nowait(phrase)

    async def _voice_all(self) -> None:
        while (phrase := await self._phrases.get()) is not None:
            try:
                spoken = await self._voicer(phrase, self._voice, self._accepted)
            except Exception as error:  # the engine failed: the text answer stands
                log.warning("%s: the spoken answer stopped: %s", self._name, error)
                return
            if spoken is None:
                return
            data, media_type = spoken
            extension = "ogg" if media_type == "audio/ogg" else "wav"
            part = pb.Part(
                raw=data, media_type=media_type, filename=f"{self._name}-{self.parts}.{extension}"
            )
            await self._emit(part, self.parts > 0)
            self.parts += 1

    async def finish(self) -> None:
        """Voices the rest and waits until every phrase is in the artifact."""
        if (rest := self._phraser.finish()) is not None:
            self._queue(rest)
        if self._task is not None:
            self._phrases.put_nowait(None)
            await self._task

    def abandon(self) -> None:
        """The turn is being canceled: stop voicing now (the task ends by itself)."""
        if self._task is not None:
            self._task.cancel()

    async def close(self) -> None:
        """The turn ended otherwise (failed, cut, called off): stops voicing."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
