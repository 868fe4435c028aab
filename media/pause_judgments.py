"""The end-of-turn model's judgments of one pause: when they are asked for, what each one
hears, and what they said.

A pause is heard from ``judgments`` points (``judge_after``, twice that … into it):
the model's answer wavers with 20 ms of audio more or less, so the least sure of them counts.
They are asked for only when their answer can matter, at the last moment it still can:

- once every point has been heard (the views are the utterance up to each point), and
- not before ``judge_after`` ahead of the soonest end any answer could allow, given the
  words (``media.end_of_turn.silence_judged`` of a voice that sounds surely done): after
  "because the" that is 0.8 s, so a pause that ends sooner needs no judgment; after words
  that may end a sentence (or none yet) it is 0.2 s, and the judgment is asked for as soon
  as the last point is heard.

Most pauses inside speech end before then, and cost nothing. The views are judged at once
(in parallel where there are cores), so the verdict lands one judgment's time after the last
point, as it did when each point was judged as it came. Pure: block counts in, decisions out.
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
    asked: bool = False  # the running pause's judgments were asked for

    def began(self) -> None:
        """A new pause: nothing judged, nothing asked."""
        self.number += 1
        self.finished = None
        self.count = 0
        self.asked = False

    @property
    def _every(self) -> int:
        """Blocks between the points a pause is heard from."""
        return max(1, round(self.config.judge_after / self.block_seconds))

    def due(self, silence: int, soonest: Callable[[], float | None]) -> bool:
        """Whether the judgments are to be asked for now, ``silence`` blocks into the pause;
        ``soonest()`` is the soonest end an answer could allow, in seconds (None: the words of
        the pause are not in yet), weighed only once every view is heard. True once per
        pause."""
        last_point = self.config.judgments * self._every
        if self.asked or silence < last_point:
            return False
        allowed = soonest()
        lead = 0.0 if allowed is None else allowed - self.config.judge_after
        self.asked = silence >= round(lead / self.block_seconds)
        return self.asked

    def points(self, silence: int) -> list[int]:
        """How many blocks of the utterance's end each view leaves out (0: all of it), for an
        utterance that ends ``silence`` blocks into the pause."""
        every = self._every
        return [silence - k * every for k in range(1, self.config.judgments + 1)]

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
