"""The end-of-turn model's judgments of one pause: when each is asked for, what it hears, and
what they said.

A pause is heard from ``judgments`` points (``judge_after``, twice that … into it): the
model's answer wavers with 20 ms of audio more or less, so the least sure of them counts.
The views (the utterance up to each point) are asked for only when their answer can matter:

- once every point has been heard, so a pause that ends sooner costs nothing;
- not before the soonest end any answer could allow, given the words
  (``media.end_of_turn.silence_judged`` of a voice that sounds surely done): after "because
  the" that is 0.8 s, so a pause that ends sooner needs no judgment; after words that may
  end a sentence (or none yet) it is 0.2 s; after words that hold out for the fallback
  whatever the voice says ("he", "unless to") no view is asked for at all;
- one after the other while there is ``judge_after`` left for each view still to come (a
  view that already says the voice sounds unfinished decides: the rest are not asked for),
  the rest at once when there is not (in parallel where there are cores), so the verdict
  lands one judgment after the soonest end's lead: at 0.2 s, the two views at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from media.end_of_turn import EndOfTurnConfig


@dataclass
class PauseJudgments:
    config: EndOfTurnConfig
    block_seconds: float
    number: int = 0  # the running pause's number (a stale judgment names an older one)
    finished: float | None = None  # the least sure judgment of the running pause so far
    count: int = 0  # …how many are in
    asked: int = 0  # …how many were asked for

    def began(self) -> None:
        """A new pause: nothing judged, nothing asked."""
        self.number += 1
        self.finished = None
        self.count = 0
        self.asked = 0

    @property
    def _every(self) -> int:
        """Blocks between the points a pause is heard from."""
        return max(1, round(self.config.judge_after / self.block_seconds))

    def due(self, silence: int, soonest: Callable[[], float | None]) -> list[int]:
        """The views to ask for now, ``silence`` blocks into the pause (0: the first point;
        none: not yet, or no more); ``soonest()`` is the soonest end an answer could allow,
        in seconds (None: the words of the pause are not in yet), weighed only once every
        view is heard. Each view is due once."""
        judgments = self.config.judgments
        if self.asked >= judgments or self.count < self.asked or self.enough:
            return []
        if silence < judgments * self._every:
            return []
        allowed = soonest()
        to_come = judgments - self.asked
        if allowed is None:  # no words yet: nothing to wait for
            views = to_come
        elif allowed >= self.config.fallback or silence < self._lead(allowed, to_come):
            return []  # no answer could end it before the fallback, or not yet
        else:  # time for one judgment after another: the next; none to spare: the rest at once
            views = 1 if silence < self._lead(allowed, to_come - 1) else to_come
        self.asked += views
        return list(range(self.asked - views, self.asked))

    def _lead(self, soonest: float, views: int) -> int:
        """Blocks into the pause that leave ``judge_after`` for each of ``views`` judgments
        before ``soonest``."""
        return round((soonest - views * self.config.judge_after) / self.block_seconds)

    def point(self, silence: int, view: int) -> int:
        """How many blocks of the utterance's end ``view`` leaves out (0: all of it), for an
        utterance that ends ``silence`` blocks into the pause."""
        return silence - (view + 1) * self._every

    def judged(self, number: int, finished: float) -> bool:
        """One view's probability that the person finished; False for a stale pause."""
        if number != self.number:
            return False
        self.finished = finished if self.finished is None else min(self.finished, finished)
        self.count += 1
        return True

    @property
    def enough(self) -> bool:
        """Every view is in, or one that already says the voice is unfinished (the least sure
        counts: no other can change that)."""
        unfinished = self.finished is not None and self.finished < self.config.doubt
        return unfinished or self.count >= self.config.judgments
