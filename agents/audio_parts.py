"""A2A messages that speak: audio parts heard before the turn starts.

A part whose media type is ``audio/*`` (inline bytes or a URL) is handed to the server's
``Hearing`` (decode, voice detector, recognizer); what was heard is added to the message as a
text part (what the agent answers) and listed in its metadata (``heard``: the part's index and
text). Audio that cannot be heard is the client's mistake: -32602 naming the part and why,
before any task exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import InvalidParamsError

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
