"""A sentence resumed: which utterances go on from the one before (pure rule)."""

from __future__ import annotations

import pytest

from server.rooms.resumption import Answered, resumed

WINDOW = 1.4


def _answered(cut_by: str | None = "ann", task: str = "t1") -> Answered:
    answered = Answered("ann", "had he married", stopped=10.0, reply="t1")
    if cut_by is not None:
        answered.cut_by(task, cut_by)
    return answered


@pytest.mark.parametrize(
    ("answered", "who", "started", "goes_on"),
    [
        (_answered(), "ann", 10.5, True),  # half a second later, her answer cut by her
        (_answered(), "ann", 10.0 + WINDOW - 0.05, True),  # about as long as the fallback
        (_answered(), "ann", 10.0 + WINDOW + 0.1, False),  # longer: a new sentence
        (_answered(), "bob", 10.5, False),  # someone else
        (_answered(cut_by=None), "ann", 10.5, False),  # the answer was heard to its end
        (_answered(cut_by="bob"), "ann", 10.5, False),  # someone else cut it
        (_answered(task="t2"), "ann", 10.5, False),  # she cut another turn
        (None, "ann", 10.5, False),  # nothing before (typed, a debate, a new room)
    ],
    ids=[
        "pause",
        "pause-as-long-as-the-fallback",
        "longer-pause",
        "other-person",
        "answer-heard",
        "cut-by-another",
        "another-turn-cut",
        "nothing-before",
    ],
)
def test_an_utterance_goes_on_from_one_its_speaker_cut_the_answer_to(
    answered: Answered | None, who: str, started: float, goes_on: bool
) -> None:
    assert resumed(answered, who, started, WINDOW) is (answered if goes_on else None)
