"""When a pause's judgments are asked for, what each view leaves out, how the answers add up."""

from __future__ import annotations

import numpy as np

from clients.fixtures import labelled_speech
from media.end_of_turn import EndOfTurnConfig, silence_judged
from media.pause_judgments import PauseJudgments
from media.pcm import IN_FRAME
from media.vad import VadSegmenter

BLOCK = 0.01
CONFIG = EndOfTurnConfig()  # two views, 100 ms apart; 0.8 s for unfinished words


def soonest(words: str) -> float:
    """The soonest end any judgment could allow after ``words``."""
    return silence_judged(1.0, words, config=CONFIG)


def first_due(judgments: PauseJudgments, soonest: float | None, longest: int = 300) -> int:
    """The block at which a pause's judgments are first asked for (-1: never)."""
    judgments.began()
    due = [silence for silence in range(1, longest) if judgments.due(silence, lambda: soonest)]
    assert len(due) <= 1, "asked for once per pause"
    return due[0] if due else -1


def test_judgments_are_asked_for_when_their_answer_can_first_matter() -> None:
    judgments = PauseJudgments(CONFIG, BLOCK)
    # Words that may end a sentence end the pause at 0.2 s when the voice sounds done:
    # asked as soon as the last view is heard; so for one word ("Yes."), and with no words
    # in yet (the voice may be all there is).
    for words in ("trams beat buses", "yes", "we have been made"):
        assert first_due(judgments, soonest(words)) == 20, words
    assert first_due(judgments, None) == 20
    # "…because the" waits 0.8 s whatever the voice says: asked 0.1 s before, not earlier.
    assert first_due(judgments, soonest("trams beat buses because the")) == 70


def test_a_pause_that_ends_before_its_judgments_are_due_costs_none() -> None:
    judgments = PauseJudgments(CONFIG, BLOCK)
    assert first_due(judgments, soonest("we could build the"), longest=60) == -1  # a 0.6 s pause
    assert first_due(judgments, None, longest=19) == -1  # a 0.19 s one
    weighed: list[float] = []  # the words are weighed only once every view is heard

    def soonest_words() -> float:
        weighed.append(0.2)
        return 0.2

    judgments.began()
    assert not any(judgments.due(silence, soonest_words) for silence in range(1, 20))
    assert weighed == [] and judgments.due(20, soonest_words) and weighed == [0.2]
    assert judgments.number == 3


def test_views_end_at_each_point_and_the_least_sure_answer_counts() -> None:
    judgments = PauseJudgments(CONFIG, BLOCK)
    judgments.began()
    # Asked 70 blocks into the pause: the views end 10 and 20 blocks into it.
    assert judgments.points(70) == [60, 50]
    assert judgments.points(20) == [10, 0]
    assert not judgments.judged(judgments.number - 1, 0.9), "a stale pause's answer is dropped"
    assert judgments.judged(judgments.number, 0.95)
    assert not judgments.enough and judgments.finished == 0.95
    assert judgments.judged(judgments.number, 0.7)
    assert judgments.enough and judgments.finished == 0.7


def test_one_view_that_says_unfinished_is_enough() -> None:
    judgments = PauseJudgments(CONFIG, BLOCK)
    judgments.began()
    judgments.judged(judgments.number, 0.1)
    assert judgments.enough and judgments.finished == 0.1
    judgments.began()
    assert not judgments.enough and judgments.finished is None and not judgments.asked


def test_a_segmenter_asks_for_judgments_once_per_pause_when_they_can_matter() -> None:
    """A read sentence and 2 s of silence, the words heard at each pause: after words that may
    end a sentence the judgments are asked for at 200 ms into a pause, after "because the"
    at 700 ms; shorter pauses are never judged; the views end 100 and 200 ms into it."""
    clip = labelled_speech()[0]
    pcm = np.concatenate([clip.pcm, np.zeros(32000, np.int16)])
    for words, due in (("we should build trams", 0.2), ("we should build trams because the", 0.7)):
        segmenter = VadSegmenter()
        segmenter.judging = True
        asked: list[tuple[float, list[int]]] = []
        paused = False
        for start in range(0, len(pcm) - IN_FRAME + 1, IN_FRAME):
            segmenter.push(pcm[start : start + IN_FRAME], (start + IN_FRAME) / 16000)
            if segmenter.silent > 0 and not paused:
                segmenter.hear(words)
            paused = segmenter.silent > 0
            if segmenter.judgeable:
                number, views = segmenter.pause()
                asked.append((segmenter.silent, [len(v) for v in views]))
                for _ in views:
                    segmenter.judged(number, 0.9)  # sounds done: words decide
        assert asked, words
        for silent, lengths in asked:
            assert due <= silent <= due + BLOCK + 1e-9, (words, silent)
            assert lengths[1] - lengths[0] == 1600, "views 100 ms apart"
