"""The brain contract: given a persona, the conversation so far and a prompt, stream text.

Brains are engines: the agent service calls them and turns their text into A2A events.
A brain raises :class:`BrainError` when its backend fails; the turn then ends ``failed``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from agents.persona import Persona


@dataclass(frozen=True)
class Utterance:
    """One entry of a conversation's history."""

    speaker: str  # persona name, "user" or "moderator"
    text: str
    interrupted: bool = False


@dataclass(frozen=True)
class BrainRequest:
    persona: Persona
    prompt: str  # what this turn answers: the user's words, or the moderator's cue
    history: tuple[Utterance, ...] = ()
    topic: str | None = None  # set when the turn belongs to a debate
    context_id: str = ""
    turn_index: int = 0  # how many turns this persona already took in the context
    cut_in: str | None = None  # this turn cuts in on another debater after this sentence
    interrupting: str | None = None  # …who was speaking

    def last_from_others(self) -> Utterance | None:
        """The most recent utterance by anyone but this persona (the opponent or the user)."""
        for utterance in reversed(self.history):
            if utterance.speaker != self.persona.name and utterance.speaker != "moderator":
                return utterance
        return None


@dataclass(frozen=True)
class ProgressNoted:
    """The brain reported progress ("looking that up"): shown as the speaker's status, never
    voiced or stored as what it said."""

    text: str


Said = str | ProgressNoted  # str: reply text, with its own spacing


class BrainError(Exception):
    """The brain's backend failed; ``str(error)`` is a message fit for the user."""


class Brain(Protocol):
    """Streams a reply as text chunks (words or tokens, with their own spacing), and any
    progress notes along the way."""

    label: str  # shown in task metadata: "scripted-demo", "openai:gpt-4o-mini", ...

    def stream(self, request: BrainRequest) -> AsyncIterator[Said]: ...

    async def aclose(self) -> None: ...
