"""Who speaks next in a debate: the order, the rounds and the cut-ins. Pure: no I/O.

A debate runs ``rounds * speakers`` turns in order; a granted cut-in gives the next turn to
the interrupter, cued with the sentence it cut in on, and the order goes on after it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from agents.podium_meta import MAX_ROUNDS


@dataclass(frozen=True)
class Cue:
    """The moderator's cue for one turn."""

    agent: str
    round: int
    cut_in: str | None = None  # the sentence this turn answers, cutting in after it
    interrupting: str | None = None  # …whose sentence it was

    def metadata(self, topic: str) -> dict[str, Any]:
        cue: dict[str, Any] = {"cue": True, "topic": topic, "round": self.round}
        if self.cut_in is not None:
            cue |= {"cut_in": self.cut_in, "interrupting": self.interrupting}
        return cue


@dataclass(frozen=True)
class _CutIn:
    by: str
    heard: str
    over: str


@dataclass
class DebatePlan:
    order: tuple[str, ...]
    rounds: int
    _turns: int = 0
    _following: int = 0
    _cut_in: _CutIn | None = field(default=None, repr=False)

    @staticmethod
    def parse(
        meta: Mapping[str, Any],
        default_order: tuple[str, ...],
        default_rounds: int,
        known: Collection[str],
    ) -> DebatePlan | str:
        """The plan a debate request asks for, or the reason it cannot run."""
        speakers = meta.get("speakers")
        if speakers is not None and (
            not isinstance(speakers, list) or not all(isinstance(n, str) for n in speakers)
        ):
            return "speakers must be a list of debater names"
        order = tuple(n.lower() for n in speakers or ()) or default_order
        unknown = [n for n in order if n not in known]
        if unknown:
            return f"unknown debaters: {', '.join(unknown)}"
        if not order:
            return "a debate needs at least one debater"
        rounds = meta.get("rounds", default_rounds) or default_rounds
        if isinstance(rounds, bool) or not isinstance(rounds, int | float) or rounds != int(rounds):
            return f"rounds must be a whole number from 1 to {MAX_ROUNDS}"
        if not 1 <= rounds <= MAX_ROUNDS:
            return f"rounds must be from 1 to {MAX_ROUNDS}"
        return DebatePlan(order, int(rounds))

    @property
    def done(self) -> bool:
        return self._turns >= self.rounds * len(self.order)

    def next(self) -> Cue | None:
        """The next turn's cue, or None when the debate is over."""
        if self.done:
            return None
        cut_in, self._cut_in = self._cut_in, None
        agent = cut_in.by if cut_in else self.order[self._following]
        self._following = (self.order.index(agent) + 1) % len(self.order)
        cue = Cue(
            agent,
            self._turns // len(self.order) + 1,
            cut_in.heard if cut_in else None,
            cut_in.over if cut_in else None,
        )
        self._turns += 1
        return cue

    def cut_in(self, by: str, heard: str, over: str) -> None:
        """A granted bid: ``by`` speaks next, answering ``heard`` (said by ``over``)."""
        if by in self.order:
            self._cut_in = _CutIn(by, heard, over)
