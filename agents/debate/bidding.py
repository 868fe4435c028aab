"""Agent interjections: while one debater speaks, the others hear its words as they are
delivered and, at each sentence end, may bid to cut in with an urgency. The arbiter grants
or denies by policy; a granted bid cuts the speaker's turn."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from agents.debate.events import BidMade
from agents.floor.arbiter import Deny, Interrupt
from agents.floor.floors import Floor
from agents.persona import Persona

log = logging.getLogger(__name__)
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s*$")
BID_PATIENCE = 2.0  # seconds a bid may take; a late bid is dropped


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


class TurnBids:
    """The bidding during one turn: heard text in, bids out, at most one grant."""

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
        self._asks: set[asyncio.Task[None]] = set()
        self._cutting: asyncio.Task[None] | None = None
        self.granted: Interrupt | None = None
        self.cut_after = ""  # the sentence the interrupter answers

    def heard(self, text: str) -> None:
        self._text += text
        self._sentence += text
        if not self._rivals or self.granted or not _SENTENCE_END.search(self._sentence):
            return
        sentence, self._sentence = self._sentence.strip(), ""
        turn = self._floor.arbiter.turn
        elapsed = self._floor.arbiter.clock() - turn.started if turn else 0.0
        for rival in self._rivals:
            request = BidRequest(
                rival.persona, self._speaker, sentence, self._text.strip(), self._topic, elapsed
            )
            task = asyncio.create_task(self._ask(rival, request))
            self._asks.add(task)
            task.add_done_callback(self._asks.discard)

    async def _ask(self, rival: Rival, request: BidRequest) -> None:
        try:
            urgency = await asyncio.wait_for(rival.bidder.bid(request), BID_PATIENCE)
        except Exception as error:  # a failed bid is no bid; the debate goes on
            log.debug("bid by %s failed: %s", rival.name, error)
            return
        if urgency is None or self.granted is not None:
            return
        decision = self._floor.bid(rival.name, urgency)
        if isinstance(decision, Interrupt):
            # Claimed at once (no second grant meanwhile); the cut and its announcement run
            # to their end even when the turn closes its bidding as the cut ends it.
            self.granted = decision
            self._cutting = asyncio.create_task(self._grant(decision, request, urgency))
            return
        await self._announce(
            BidMade(rival.name, self._speaker, round(urgency, 2), False, decision.reason)
        )

    async def _grant(self, decision: Interrupt, request: BidRequest, urgency: float) -> None:
        """Cuts the turn, then says how the bid ended: a turn that finished on its own while
        the bid was decided is not cut, and the bid lapses (its budget is given back)."""
        outcome: Interrupt | Deny = decision
        if not await self._cut(decision):
            log.info("%s's bid lapsed: %s had finished", decision.by, self._speaker)
            self.granted = None
            self._floor.bid_lapsed(decision)
            outcome = Deny(decision.by, "the speaker had finished")
        else:
            self.cut_after = request.heard
        granted = isinstance(outcome, Interrupt)
        await self._announce(
            BidMade(decision.by, self._speaker, round(urgency, 2), granted, outcome.reason)
        )

    async def aclose(self) -> None:
        """Drops the bids still being decided; a grant being carried out is finished first."""
        asks = list(self._asks)
        for task in asks:
            task.cancel()
        if asks:
            await asyncio.wait(asks)  # (a cancel of the caller still propagates)
        if self._cutting is not None:
            await asyncio.shield(self._cutting)
