"""Where a turn's text goes: the seam between an agent's turn and its audience.

An executor passes its brain's text through a :class:`Delivery` and records only what comes
out (what the audience received). Text turns use :class:`ImmediateDelivery`; a voice room
claims the message that starts a turn (:meth:`Deliveries.claim`) so the turn is voiced there,
and a cancel reaches exactly that room (:meth:`Deliveries.of_task`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from agents.turn import CancelReason


@dataclass(frozen=True)
class TurnInfo:
    agent: str
    task_id: str
    wpm: float = 0.0  # a text debate's speaking clock (0: as fast as the brain)


@dataclass(frozen=True)
class HeardAudio:
    """Where the audio of what the audience heard of a turn can be fetched."""

    url: str
    media_type: str
    filename: str


class DeliveryError(Exception):
    """The turn's text could not reach its audience (e.g. speech synthesis failed)."""


class Delivery(Protocol):
    def update_every(self, turn: TurnInfo) -> float:
        """Seconds between the turn's task updates (see ``agents.coalesce``)."""
        ...

    def deliver(self, turn: TurnInfo, chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        """The brain's text in, the text the audience received out."""
        ...

    def stop(self, task_id: str, why: CancelReason) -> None:
        """Stop delivering the turn (a voice may trail off); the turn ends ``canceled``."""
        ...

    def stopped(self, task_id: str) -> CancelReason | None:
        """Why the turn's delivery was stopped (None: it was not). When the delivered text
        ends, the executor ends the turn ``canceled`` with this reason."""
        ...

    def finished(self, task_id: str) -> None:
        """The turn's task has ended: forget it."""
        ...

    def progress(self, turn: TurnInfo, note: str) -> None:
        """The turn's speaker reported progress: shown, not delivered as speech."""
        ...

    def heard(self, task_id: str) -> HeardAudio | None:
        """The audio of the turn as it was heard (a recorded room), once its delivery ended."""
        ...


class ImmediateDelivery:
    """Text turns: chunks as the brain produces them, or word by word at the turn's ``wpm``."""

    def update_every(self, turn: TurnInfo) -> float:
        # Paced (a text debate's speaking clock): word by word, as rivals listen for their cue.
        # Unpaced: a reader's eye; ten updates a second stream smoothly.
        return 0.0 if turn.wpm > 0 else 0.1

    def deliver(self, turn: TurnInfo, chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        return paced_words(chunks, turn.wpm) if turn.wpm > 0 else chunks

    def stop(self, task_id: str, why: CancelReason) -> None:
        return None  # a text turn stops when its task is canceled

    def stopped(self, task_id: str) -> CancelReason | None:
        return None

    def finished(self, task_id: str) -> None:
        return None

    def progress(self, turn: TurnInfo, note: str) -> None:
        return None  # a text client reads it in the task's status

    def heard(self, task_id: str) -> HeardAudio | None:
        return None


async def paced_words(chunks: AsyncIterator[str], wpm: float) -> AsyncIterator[str]:
    """Word by word at ``wpm``: a text debate's speaking clock, so the others hear a turn
    unfold and can cut in on it as they would on a voice."""
    gap = 60.0 / wpm
    loop = asyncio.get_running_loop()
    due = loop.time()
    async for chunk in chunks:
        for word in re.findall(r"\s*\S+", chunk):
            await asyncio.sleep(max(0.0, due - loop.time()))
            due = max(due, loop.time()) + gap
            yield word


REVOKED_KEPT = 1024


class Deliveries:
    """Which delivery each turn uses: claimed by message id before the turn starts, bound to
    the task id when the executor opens it. A starter that gives up before it hears back (its
    debate was canceled meanwhile) calls the turn off (``revoke``): the executor asks
    (``revoked``) as it opens the turn and before each update, and ends it ``canceled`` itself
    (a cancel through the handler cannot find a task not saved yet)."""

    def __init__(self, default: Delivery | None = None) -> None:
        self.default: Delivery = default or ImmediateDelivery()
        self._claims: dict[str, Delivery] = {}
        self._tasks: dict[str, Delivery] = {}
        self._revoked: dict[str, None] = {}  # message ids whose turns are called off (ordered)

    def claim(self, message_id: str, delivery: Delivery) -> None:
        self._claims[message_id] = delivery

    def release(self, message_id: str) -> None:
        """Drops a claim that no turn took (the send failed)."""
        self._claims.pop(message_id, None)

    def take(self, message_id: str) -> Delivery | None:
        """The claim on ``message_id`` (a debate takes its room's delivery for its turns)."""
        return self._claims.pop(message_id, None)

    def open(self, message_id: str, task_id: str) -> Delivery:
        delivery = self._claims.pop(message_id, None) or self.default
        self._tasks[task_id] = delivery
        return delivery

    def revoke(self, message_id: str) -> None:
        """Calls off the turn ``message_id`` starts (or started)."""
        self._claims.pop(message_id, None)
        self._revoked[message_id] = None
        while len(self._revoked) > REVOKED_KEPT:  # turns that never opened at all
            del self._revoked[next(iter(self._revoked))]

    def revoked(self, message_id: str) -> bool:
        return message_id in self._revoked

    def of_task(self, task_id: str) -> Delivery:
        return self._tasks.get(task_id, self.default)

    def close(self, task_id: str, message_id: str = "") -> None:
        if (delivery := self._tasks.pop(task_id, None)) is not None:
            delivery.finished(task_id)
        self._revoked.pop(message_id, None)
