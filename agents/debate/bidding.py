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
from agents.floor.arbiter import Interrupt
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
        cut: Callable[[Interrupt], Awaitable[None]],
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
        granted = isinstance(decision, Interrupt)
        await self._announce(
            BidMade(rival.name, self._speaker, round(urgency, 2), granted, decision.reason)
        )
        if isinstance(decision, Interrupt):
            self.granted = decision
            self.cut_after = request.heard
            await asyncio.shield(self._cut(decision))

    async def aclose(self) -> None:
        asks = list(self._asks)
        for task in asks:
            task.cancel()
        if asks:
            await asyncio.wait(asks)  # (a cancel of the caller still propagates)
