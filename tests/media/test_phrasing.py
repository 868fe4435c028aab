"""Phraser: streamed text → phrases to voice; early when nothing plays, whole otherwise."""

from __future__ import annotations

from media.phrasing import Phraser


def test_sentences_are_phrases_and_the_rest_waits_for_more_text() -> None:
    phraser = Phraser()
    assert phraser.push("Trams are quiet. They", idle=False) == ["Trams are quiet. "]
    assert phraser.push(" carry many; buses", idle=False) == ["They carry many; "]
    assert phraser.finish() == "buses"
    assert phraser.finish() is None


def test_with_nothing_playing_voicing_starts_on_the_first_clause() -> None:
    phraser = Phraser(first_phrase_words=4)
    assert phraser.push("Well, streets without cars are", idle=True) == ["Well, "]


def test_with_nothing_playing_and_no_clause_the_words_so_far_start_it() -> None:
    phraser = Phraser(first_phrase_words=4)
    assert phraser.push("streets without cars are calm", idle=True) == ["streets without cars are "]
    assert phraser.push("er and green. Next", idle=False) == ["calmer and green. "]


def test_short_text_waits_for_more_words_and_busy_voices_wait_for_sentences() -> None:
    phraser = Phraser(first_phrase_words=4)
    assert phraser.push("Two words", idle=True) == []
    assert phraser.push(" and three, four five six", idle=False) == []
    assert phraser.finish() == "Two words and three, four five six"


def test_whitespace_only_rest_is_nothing_to_voice() -> None:
    phraser = Phraser()
    assert phraser.push("Done. ", idle=False) == ["Done. "]
    assert phraser.finish() is None
