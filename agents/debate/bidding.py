"""Agent interjections: while one debater speaks, the others hear its words as they are
delivered and, at each sentence end, may bid to cut in with an urgency. The arbiter grants
or denies by policy; a granted bid cuts the speaker's turn."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from agents.debate.events import BidMade
from agents.floor.arbiter import Interrupt
from agents.floor.floors import Floor
from agents.persona import Persona

log = logging.getLogger(__name__)
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s*$")
BID_PATIENCE = 2.0  # seconds a bid may take; a late bid is dropped
FINISHED = "the speaker had finished"  # a bid on a turn's last sentence


@dataclass(frozen=True)
class BidRequest:
    persona: Persona  # who might cut in
    speaker: str  # who holds the floor
    heard: str  # the sentence just heard
    turn_so_far: str  # everything heard of this turn
    topic: str
    elapsed: float  # seconds the speaker has held the floor


@runtime_checkable
class Bidder(Protocol):
    async def bid(self, request: BidRequest) -> float | None:
        """An urgency in [0, 1] to cut in now, or None to let the speaker go on."""
        ...


@dataclass(frozen=True)
class Rival:
    name: str
    persona: Persona
    bidder: Bidder


@dataclass
class _Sentence:
    """A sentence the rivals bid on; a bid cuts in once the speaker has gone on after it."""

    went_on: asyncio.Event = field(default_factory=asyncio.Event)  # set: decided either way
    continued: bool = False  # the speaker went on (False once set: the turn ended there)


class TurnBids:
    """The bidding during one turn: heard text in, bids out, at most one grant.

    A bid cuts into a turn that goes on, never its end: it goes to the floor once the speaker
    has gone on after the sentence it answers (at once when that came while the rival was
    deciding). A bid on the turn's last sentence is announced not granted ("the speaker had
    finished"): the turn was over before it could cut in."""

    def __init__(
        self,
        floor: Floor,
        speaker: str,
        topic: str,
        rivals: list[Rival],
        announce: Callable[[BidMade], Awaitable[None]],
        cut: Callable[[Interrupt], Awaitable[bool]],  # False: the turn had already ended
    ) -> None:
        self._floor = floor
        self._speaker = speaker
        self._topic = topic
        self._rivals = rivals
        self._announce = announce
        self._cut = cut
        self._text = ""
        self._sentence = ""
        self._last: _Sentence | None = None  # the latest sentence, until the speaker goes on
        self._asks: set[asyncio.Task[None]] = set()
        self._deciding: set[asyncio.Task[None]] = set()  # …of them, rivals still deciding
        self.granted: Interrupt | None = None
        self.cut_after = ""  # the sentence the interrupter answers

    def heard(self, text: str) -> None:
        if text.strip() and self._last is not None:
            self._last.continued = True
            self._last.went_on.set()
            self._last = None
        self._text += text
        self._sentence += text
        if not self._rivals or self.granted or not _SENTENCE_END.search(self._sentence):
            return
        sentence, self._sentence = self._sentence.strip(), ""
        self._last = _Sentence()
        turn = self._floor.arbiter.turn
        elapsed = self._floor.arbiter.clock() - turn.started if turn else 0.0
        for rival in self._rivals:
            request = BidRequest(
                rival.persona, self._speaker, sentence, self._text.strip(), self._topic, elapsed
            )
            task = asyncio.create_task(self._ask(rival, request, self._last))
            self._asks.add(task)
            self._deciding.add(task)
            task.add_done_callback(self._asks.discard)

    async def _ask(self, rival: Rival, request: BidRequest, sentence: _Sentence) -> None:
        try:
            urgency = await asyncio.wait_for(rival.bidder.bid(request), BID_PATIENCE)
        except Exception as error:  # a failed bid is no bid; the debate goes on
            log.debug("bid by %s failed: %s", rival.name, error)
            return
        finally:
            self._deciding.discard(asyncio.current_task())
        if urgency is None or self.granted is not None:
            return
        await sentence.went_on.wait()
        if self.granted is not None:
            return
        if not sentence.continued:
            await self._announce(
                BidMade(rival.name, self._speaker, round(urgency, 2), False, FINISHED)
            )
            return
        decision = self._floor.bid(rival.name, urgency)
        if isinstance(decision, Interrupt):
            self.granted = decision  # claimed at once: no second grant meanwhile
            self.cut_after = request.heard
            await self._grant(decision, urgency)
            return
        await self._announce(
            BidMade(rival.name, self._speaker, round(urgency, 2), False, decision.reason)
        )

    async def _grant(self, decision: Interrupt, urgency: float) -> None:
        """Announces the grant, then cuts the turn. Should the turn still end on its own
        meanwhile, nothing is left to cut and the grant stands (the interrupter answers that
        sentence next)."""
        await self._announce(
            BidMade(decision.by, self._speaker, round(urgency, 2), True, decision.reason)
        )
        if not await self._cut(decision):
            log.info("%s's grant found %s already finished", decision.by, self._speaker)

    async def aclose(self) -> None:
        """The turn ended: bids still being decided are dropped; bids waiting for the speaker
        to go on are told it finished, and a grant being carried out (the cut that ended the
        turn) runs to its end, both before this returns."""
        if self._last is not None:
            self._last.went_on.set()  # (not continued)
        for task in list(self._deciding):
            task.cancel()
        asks = list(self._asks)
        if asks:  # (a cancel of the caller still propagates; the asks run on)
            await asyncio.wait(asks)
