"""Turn timing: which figure a voice's first word closes (pure, times passed in)."""

from __future__ import annotations

from server.rooms.turn_timing import TurnTiming


def test_an_answer_after_a_person_stopped_is_e2e_from_the_end_of_speech() -> None:
    timing = TurnTiming()
    timing.person_started()
    timing.person_stopped(at=10.0)
    assert timing.voice_started(now=10.5) == ("e2e", 0.5)
    assert timing.voice_started(now=11.0) is None, "closed once"


def test_one_voice_after_another_is_a_turn_gap() -> None:
    timing = TurnTiming()
    timing.voice_completed(now=5.0)
    assert timing.voice_started(now=5.25) == ("turn_gap", 0.25)


def test_a_person_speaking_in_the_gap_breaks_it_and_an_unanswered_utterance_owes_nothing() -> None:
    timing = TurnTiming()
    timing.voice_completed(now=5.0)
    timing.person_started()
    timing.person_stopped(at=6.0)
    timing.unanswered()  # a cough: no turn
    assert timing.voice_started(now=7.0) is None


def test_a_due_answer_wins_over_a_gap() -> None:
    timing = TurnTiming()
    timing.voice_completed(now=5.0)
    timing.person_stopped(at=5.5)  # spoke (and stopped) before anyone started
    assert timing.voice_started(now=6.0) == ("e2e", 0.5)
