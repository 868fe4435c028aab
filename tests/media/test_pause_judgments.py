"""When a pause's judgments are asked for, what each view leaves out, how the answers add up."""

from __future__ import annotations

import json

import numpy as np

from clients.fixtures import FIXTURES, labelled_speech
from clients.noise_corpus import sound, to_pcm, voiced_level_dbfs
from media.end_of_turn import EndOfTurnConfig, silence_judged
from media.pause_judgments import PauseJudgments
from media.pcm import IN_FRAME, IN_RATE
from media.vad import SpeechStopped, VadSegmenter

BLOCK = 0.01
CONFIG = EndOfTurnConfig()  # two views, 100 ms apart; 0.8 s for unfinished words


def soonest(words: str) -> float:
    """The soonest end any judgment could allow after ``words``."""
    return silence_judged(1.0, words, config=CONFIG)


def asked_at(
    judgments: PauseJudgments,
    soonest: float | None,
    answers: tuple[float, ...] = (0.9, 0.9),
    longest: int = 300,
) -> list[tuple[int, list[int]]]:
    """(block, views) each time a pause's views are asked for, each answered at once with
    the next of ``answers``."""
    judgments.began()
    asked = []
    for silence in range(1, longest):
        if views := judgments.due(silence, lambda: soonest):
            asked.append((silence, views))
            for _ in views:
                judgments.judged(judgments.number, answers[judgments.count])
    return asked


def test_judgments_are_asked_for_when_their_answer_can_first_matter() -> None:
    judgments = PauseJudgments(CONFIG, BLOCK)
    # Words that may end a sentence end the pause at 0.2 s when the voice sounds done: both
    # views at once as soon as the last is heard; so with no words in yet.
    for words in ("trams beat buses", "we have been made"):
        assert asked_at(judgments, soonest(words)) == [(20, [0, 1])], words
    assert asked_at(judgments, None) == [(20, [0, 1])]
    # A lone word waits 0.35 s at least: time for one view after the other.
    assert asked_at(judgments, soonest("yes")) == [(20, [0]), (25, [1])]
    # "…because the" waits 0.8 s whatever the voice says: time for one after the other,
    # the first 0.2 s before, the second 0.1 s before.
    assert asked_at(judgments, soonest("trams beat buses because the")) == [(60, [0]), (70, [1])]


def test_a_pause_that_ends_before_its_judgments_are_due_costs_none() -> None:
    judgments = PauseJudgments(CONFIG, BLOCK)
    assert asked_at(judgments, soonest("we could build the"), longest=60) == []  # 0.6 s
    assert asked_at(judgments, None, longest=20) == []  # a 0.19 s one
    # words that wait for the fallback whatever the voice says need no judgment at all
    assert asked_at(judgments, soonest("unless to")) == []
    weighed: list[float] = []  # the words are weighed only once every view is heard

    def soonest_words() -> float:
        weighed.append(0.2)
        return 0.2

    judgments.began()
    assert not any(judgments.due(silence, soonest_words) for silence in range(1, 20))
    assert weighed == [] and judgments.due(20, soonest_words) == [0, 1] and weighed == [0.2]


def test_a_first_view_that_says_unfinished_spares_the_second() -> None:
    judgments = PauseJudgments(CONFIG, BLOCK)
    later = soonest("trams beat buses because the")
    assert asked_at(judgments, later, answers=(0.3, 0.9)) == [(60, [0])]
    assert judgments.enough and judgments.finished == 0.3
    # the second waits for the first's answer: none yet, none asked
    judgments.began()
    assert judgments.due(60, lambda: later) == [0]
    assert all(judgments.due(silence, lambda: later) == [] for silence in range(61, 100))


def test_views_end_at_each_point_and_the_least_sure_answer_counts() -> None:
    judgments = PauseJudgments(CONFIG, BLOCK)
    judgments.began()
    # Asked 70 blocks into the pause: the views end 10 and 20 blocks into it.
    assert [judgments.point(70, view) for view in (0, 1)] == [60, 50]
    assert [judgments.point(20, view) for view in (0, 1)] == [10, 0]
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
    end a sentence the views are asked for at 200 ms into a pause, after "because the" at 600
    and 700 ms; shorter pauses are never judged; the views end 100 and 200 ms into it."""
    clip = labelled_speech()[0]
    pcm = np.concatenate([clip.pcm, np.zeros(32000, np.int16)])
    for words, due in (
        ("we should build trams", [0.2, 0.2]),
        ("we should build trams because the", [0.6, 0.7]),
    ):
        segmenter = VadSegmenter()
        segmenter.judging = True
        asked: list[tuple[float, int]] = []
        for start in range(0, len(pcm) - IN_FRAME + 1, IN_FRAME):
            segmenter.push(pcm[start : start + IN_FRAME], (start + IN_FRAME) / 16000)
            if segmenter.pause_began():
                segmenter.hear(words)
            if (views_due := segmenter.views_due()) is not None:
                number, views = views_due
                asked += [(segmenter.silent, len(view)) for view in views]
                for _ in views:
                    segmenter.judged(number, 0.9)  # sounds done: words decide
        assert asked, words
        for i in range(0, len(asked), 2):  # each pause judged: two views
            (first, early), (second, late) = asked[i : i + 2]
            assert np.allclose([first, second], due, atol=BLOCK + 1e-9), (words, first, second)
            assert late - early == 1600, "views 100 ms apart"


def test_a_pause_that_begins_after_a_blip_inside_a_frame_is_weighed_with_its_words() -> None:
    """A read sentence 12 dB quieter under pink noise 10 dB below its voice: after "he was
    not" the detector hears a 10 ms blip, and a new pause begins inside a frame, so ``silent``
    never reads 0 at a frame's end. Its number is new (``pause``), its words are heard, and
    "was not" (a sentence seldom ends there) holds it although the voice sounds finished (p
    0.95, answered at once): one utterance, ended after "man", not 0.2 s into that pause."""
    clip = labelled_speech()[1]  # "he was not an ill disposed young man"
    aligned = json.loads((FIXTURES / f"{clip.name}.json").read_text())["w"]
    words = [(w["t"].split("(")[0], w["b"] + w["d"] / 2) for w in aligned if w["t"][0] != "<"]
    end = aligned[-1]["b"] + aligned[-1]["d"]
    speech = clip.pcm[: int(IN_RATE * end)] * 10 ** (-12 / 20)
    hiss = to_pcm(sound("pink", end + 2.0, voiced_level_dbfs(clip.pcm) - 22, seed=3))
    audio = np.concatenate([speech, np.zeros(2 * IN_RATE)])
    audio = np.clip(audio + hiss[: len(audio)], -32768, 32767).astype(np.int16)
    segmenter = VadSegmenter()
    segmenter.judging = True
    within_frame, stops = 0, []
    for start in range(0, len(audio) - IN_FRAME + 1, IN_FRAME):
        t = (start + IN_FRAME) / IN_RATE
        silent_before = segmenter.silent > 0
        stops += [
            e.at
            for e in segmenter.push(audio[start : start + IN_FRAME], t)
            if isinstance(e, SpeechStopped)
        ]
        if segmenter.pause_began():  # its words so far
            within_frame += silent_before and segmenter.silent > 0
            segmenter.hear(" ".join(w for w, middle in words if middle <= t))
        if (due := segmenter.views_due()) is not None:
            for _ in due[1]:
                segmenter.judged(due[0], 0.95)
    assert within_frame, "the clip no longer has a pause that begins inside a frame"
    assert len(stops) == 1 and stops[0] > end, stops
