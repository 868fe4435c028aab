"""When people and voiced turns start and stop: the room's e2e and turn-gap figures.

Pure bookkeeping with times passed in: a person's accepted utterance that ends makes an
answer due (``e2e`` = the answering voice's first word minus the end of speech); a voiced turn
that completes starts a gap the next voice closes (``turn_gap``). A person starting to speak
breaks a gap; an utterance that takes no turn is owed no answer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TurnTiming:
    reply_due: float | None = None  # a person stopped speaking here, awaiting an answer
    voice_ended: float | None = None  # the last voiced turn completed here

    def person_started(self) -> None:
        self.voice_ended = None

    def person_stopped(self, at: float) -> None:
        self.reply_due = at

    def unanswered(self) -> None:
        """The person's utterance took no turn: no answer is due."""
        self.reply_due = None

    def voice_started(self, now: float) -> tuple[str, float] | None:
        """A voiced turn's first word: ("e2e" | "turn_gap", seconds), or None for neither."""
        figure = None
        if self.reply_due is not None:
            figure = ("e2e", now - self.reply_due)
        elif self.voice_ended is not None:
            figure = ("turn_gap", now - self.voice_ended)
        self.reply_due = self.voice_ended = None
        return figure

    def voice_completed(self, now: float) -> None:
        self.voice_ended = now
