"""A sentence resumed: a person answered inside a pause who goes on is answered for all of it.

No end-of-turn policy is right every time: now and then a pause mid-sentence ("had he
married … a more amiable woman") is taken for an end, and an agent starts to answer half a
sentence. The person goes on; their voice stops the answer (a barge-in) or, if it is still
being made, their next words supersede it. Answering only the second half would lose the
first. So an utterance *resumes* the one before when

- the same person spoke both,
- the answer to the first was cut by that person before it was done (superseded while being
  made, or interrupted by their voice), and
- they went on within ``window`` seconds of stopping: no longer than the end-of-turn policy
  would have waited for a voice that sounds unfinished (its fallback), so the gap was a pause
  the policy could have waited out.

Then the next answer is to both utterances' words, as one sentence, and the person's end of
turn learns to wait longer than that pause (``media.end_of_turn.Patience``). In a debate,
"the answer" is whichever debater's turn the person cuts after the utterance (the debate's
next turn may start in the pause before the interjection's answer does), and the half
sentence's interjection is withdrawn. A typed message or a longer gap starts afresh. Pure:
times in, the utterance gone on from out.
"""

from __future__ import annotations

from dataclasses import dataclass

from media.end_of_turn import EndOfTurnConfig, Patience


@dataclass(frozen=True)
class Spoken:
    """When an utterance's voice began and stopped, on the room's clock, and what its
    speaker's pauses have taught the end of turn (told of every sentence resumed or not)."""

    started: float
    stopped: float
    patience: Patience | None = None

    def teach(self, before: Answered | None, config: EndOfTurnConfig) -> None:
        """Tells the speaker's patience whether this utterance went on from ``before``."""
        if self.patience is None:
            return
        if before is None:
            self.patience.eased()
        else:
            self.patience.went_on(self.started - before.stopped, config)


@dataclass
class Answered:
    """A spoken utterance and the answer started for it."""

    who: str
    text: str  # every word answered (a resumed sentence's included)
    stopped: float  # when its voice stopped, on the room's clock
    reply: str  # the answering task ("": in a debate, whichever turn comes next)
    asked: str = ""  # in a debate, the interjection's task (withdrawn when resumed)
    cut: bool = False  # the answer was stopped by ``who`` before it was done

    def cut_by(self, task_id: str, by: str) -> None:
        """``by`` stopped task ``task_id`` (an interruption, or a newer utterance)."""
        if by == self.who and (task_id == self.reply or not self.reply):
            self.cut = True


def resumed(previous: Answered | None, who: str, started: float, window: float) -> Answered | None:
    """The utterance that one by ``who``, whose voice began at ``started``, goes on from
    (None: it starts afresh)."""
    if previous is None or previous.who != who or not previous.cut:
        return None
    return previous if 0.0 <= started - previous.stopped <= window else None
