"""The arbiter on scripted timelines with a fake clock: every policy rule, one at a time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agents.floor.arbiter import (
    Arbiter,
    Deny,
    Duck,
    FloorPolicy,
    Hold,
    Interrupt,
    Release,
    Resume,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


POLICY = FloorPolicy(
    confirm_after=0.4,
    echo_warmup=0.3,
    min_floor=3.0,
    max_turn=20.0,
    min_urgency=0.6,
    cooldown=10.0,
    budget=2,
    overlap=0.25,
)


def arbiter(**changes: object) -> tuple[Arbiter, FakeClock]:
    clock = FakeClock()
    return Arbiter(replace(POLICY, **changes), clock), clock  # type: ignore[arg-type]


def speaking(agent: str = "mei", turn: str = "t1", **changes: object) -> tuple[Arbiter, FakeClock]:
    arb, clock = arbiter(**changes)
    arb.agent_started(agent, turn)
    clock.advance(1.0)
    return arb, clock


# ── human barge-in ────────────────────────────────────────────────────────────
def test_onset_ducks_the_speaking_agent_and_a_real_word_interrupts_it() -> None:
    arb, clock = speaking()
    assert arb.speech_started("ana") == [Duck("mei", "t1", "ana")]
    assert arb.holder == "mei"  # ducked, not yet cut
    assert arb.speech_progress("ana", voiced=0.2) == []
    clock.advance(0.3)
    assert arb.speech_progress("ana", voiced=0.42) == [], "no word yet: ducked, not cut"
    decisions = arb.speech_progress("ana", voiced=0.44, words="what about")
    assert decisions == [Interrupt("mei", "t1", "ana", "human", "word")]
    assert arb.holder == "ana"
    assert not arb.agents_may_start
    assert arb.speech_ended("ana", "what about the cost") == []
    assert not arb.agents_may_start  # until the utterance is handed off as a turn
    arb.handed_off("ana")
    assert arb.agents_may_start and arb.holder is None


def test_a_word_before_the_minimum_duration_does_not_cut_yet() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    assert arb.speech_progress("ana", voiced=0.1, words="wait") == []
    assert arb.speech_progress("ana", voiced=0.4, words="wait") == [
        Interrupt("mei", "t1", "ana", "human", "word")
    ]


def test_word_confirmation_can_be_switched_off_and_the_final_transcript_cuts() -> None:
    arb, _ = speaking(confirm_on_word=False)
    arb.speech_started("ana")
    assert arb.speech_progress("ana", voiced=0.8, words="wait") == []
    assert arb.speech_ended("ana", "wait a moment") == [
        Interrupt("mei", "t1", "ana", "human", "utterance")
    ]


def test_an_utterance_with_no_words_resumes_the_ducked_agent() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    arb.speech_progress("ana", voiced=0.6)  # a cough or a door: voiced, but no word
    assert arb.speech_ended("ana", "") == [Resume("mei", "t1", "ana", "no words")]
    assert arb.holder == "mei" and arb.agents_may_start


def test_a_long_wordless_sound_gives_the_floor_back_while_it_goes_on() -> None:
    arb, _ = speaking()
    arb.speech_started("beeper")
    assert arb.speech_progress("beeper", voiced=1.0) == []
    assert arb.speech_progress("beeper", voiced=1.5) == [Resume("mei", "t1", "beeper", "no words")]
    assert arb.agents_may_start and arb.holder == "mei", "a beep does not hold the floor"
    assert arb.speech_progress("beeper", voiced=5.0) == []
    assert isinstance(arb.bid("shuai", 0.9), Deny)  # min floor, not "a person holds it"
    assert arb.speech_ended("beeper", "") == []  # nothing left to resume


def test_a_voice_is_wordless_only_once_the_recognizer_has_heard_enough_of_it() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    assert arb.speech_progress("ana", voiced=3.0, listened=0.4) == [], "the recognizer lags"
    assert arb.speech_progress("ana", voiced=3.1, listened=1.4) == []
    assert arb.speech_progress("ana", voiced=3.2, listened=1.5) == [
        Resume("mei", "t1", "ana", "no words")
    ]


def test_a_recognizer_too_far_behind_is_not_waited_for() -> None:
    arb, _ = speaking()  # a hung recognizer: a fan must not hold the floor for as long as it
    arb.speech_started("fan")
    assert arb.speech_progress("fan", voiced=4.4, listened=0.0) == []
    assert arb.speech_progress("fan", voiced=4.5, listened=0.0) == [
        Resume("mei", "t1", "fan", "no words")
    ], "wordless_limit 1.5 s + wordless_lag 3 s"


def test_words_a_lagging_recognizer_finds_cut_the_agent_it_held() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    assert arb.speech_progress("ana", voiced=2.5, listened=0.0) == []
    assert arb.speech_progress("ana", voiced=2.6, words="had he", listened=0.6) == [
        Interrupt("mei", "t1", "ana", "human", "word")
    ]


def test_words_after_a_wordless_start_still_cut_the_resumed_agent() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    arb.speech_progress("ana", voiced=1.6)  # hummed first
    assert arb.speech_ended("ana", "actually no") == [
        Interrupt("mei", "t1", "ana", "human", "utterance")
    ]


def test_a_person_who_leaves_mid_utterance_gives_the_floor_back() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    assert not arb.agents_may_start
    assert arb.left("ana") == [Resume("mei", "t1", "ana", "left")]
    assert arb.agents_may_start and arb.holder == "mei"
    assert arb.left("ana") == []
    arb.speech_started("bo")  # confirmed, then gone before the hand-off
    arb.speech_progress("bo", voiced=0.5, words="hold on")
    assert arb.left("bo") == [] and arb.agents_may_start


def test_two_people_at_once_each_claim_the_turn_and_the_second_may_cut_it() -> None:
    """The first onset ducks; a second person claims the same turn. When the first turns out
    wordless (the floor would go back), the second person's words still cut the agent."""
    arb, clock = speaking()
    assert arb.speech_started("ann") == [Duck("mei", "t1", "ann")]
    assert arb.speech_started("bo") == [], "ducked once"
    clock.advance(1.5)
    assert arb.speech_progress("ann", voiced=1.5) == [], "bo still speaks over the turn"
    decisions = arb.speech_progress("bo", voiced=0.5, words="trams are slow")
    assert decisions == [Interrupt("mei", "t1", "bo", "human", "word")]


def test_two_people_at_once_the_turn_resumes_only_when_both_let_go() -> None:
    arb, clock = speaking()
    arb.speech_started("ann")
    arb.speech_started("bo")
    clock.advance(0.3)
    assert arb.speech_ended("ann", "") == [], "bo still claims the floor"
    assert arb.speech_ended("bo", "mm-hm") == [Resume("mei", "t1", "bo", "backchannel")]
    assert arb.holder == "mei" and arb.agents_may_start


@pytest.mark.parametrize("first", ["ann", "bo"])
def test_two_people_at_once_whoever_confirms_first_cuts_and_the_other_cannot_cut_again(
    first: str,
) -> None:
    arb, clock = speaking()
    arb.speech_started("ann")
    arb.speech_started("bo")
    clock.advance(0.5)
    cut = arb.speech_progress(first, voiced=0.5, words="but the cost")
    assert cut == [Interrupt("mei", "t1", first, "human", "word")]
    other = "bo" if first == "ann" else "ann"
    assert arb.speech_progress(other, voiced=0.5, words="and the noise") == []
    assert arb.speech_ended(other, "and the noise") == []


def test_a_backchannel_never_interrupts() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    assert arb.speech_progress("ana", voiced=0.2, words="mm-hm") == []
    assert arb.speech_progress("ana", voiced=2.0, words="mm-hm") == [], "words, not wordless"
    assert arb.speech_ended("ana", "mm-hm yeah") == [Resume("mei", "t1", "ana", "backchannel")]


def test_a_lone_function_word_is_no_turn() -> None:
    """A recognizer's guess at a hum or a breath ("for", "the") neither cuts in nor ends up
    answered; the same word inside a sentence does."""
    arb, _ = speaking()
    arb.speech_started("ana")
    assert arb.speech_progress("ana", voiced=0.5, words="for") == []
    assert arb.speech_ended("ana", "for the") == [Resume("mei", "t1", "ana", "backchannel")]
    arb, _ = speaking()
    arb.speech_started("ana")
    decisions = arb.speech_progress("ana", voiced=0.5, words="for trams")
    assert decisions == [Interrupt("mei", "t1", "ana", "human", "word")]


@pytest.mark.parametrize("start", ["he", "unless to", "because the", "we"])
def test_a_start_that_only_needs_more_is_no_turn(start: str) -> None:
    """Someone who said "he..." and stopped to think, ended by the end of turn's fallback, is
    not answered for it (nor cut in on); "he is wrong" is a turn."""
    arb, _ = speaking()
    arb.speech_started("ana")
    assert arb.speech_progress("ana", voiced=0.5, words=start) == []
    assert arb.speech_ended("ana", start) == [Resume("mei", "t1", "ana", "backchannel")]
    arb, _ = speaking()
    arb.speech_started("ana")
    decisions = arb.speech_progress("ana", voiced=0.5, words=f"{start} wrong")
    assert decisions == [Interrupt("mei", "t1", "ana", "human", "word")]


def test_a_short_real_utterance_interrupts_when_it_ends() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    arb.speech_progress("ana", voiced=0.3)
    assert arb.speech_ended("ana", "no") == [Interrupt("mei", "t1", "ana", "human", "utterance")]


def test_a_cough_is_no_turn_whatever_words_it_is_heard_as() -> None:
    """Too little voice for a word: a recognizer's guess at a cough does not cut in."""
    arb, _ = speaking()
    arb.speech_started("ana")
    arb.speech_progress("ana", voiced=0.05)
    assert not arb.is_turn("ana", "are")
    assert arb.speech_ended("ana", "are") == [Resume("mei", "t1", "ana", "too short")]


# ── suspected onsets (breath, frication) ──────────────────────────────────────
def test_a_suspected_onset_holds_the_agent_and_speech_that_follows_ducks_it_held() -> None:
    arb, _ = speaking()
    assert arb.speech_suspected("ana") == [Hold("mei", "t1", "ana")]
    assert arb.speech_started("ana") == [Duck("mei", "t1", "ana", held=True)]
    assert arb.suspicion_cleared("ana") == [], "the suspicion became speech"
    assert arb.speech_ended("ana", "") == [Resume("mei", "t1", "ana", "no words")]


def test_a_suspicion_that_comes_to_nothing_releases_the_agent() -> None:
    arb, _ = speaking()
    assert arb.speech_suspected("ana") == [Hold("mei", "t1", "ana")]
    assert arb.suspicion_cleared("ana") == [Release("mei", "t1", "ana")]
    assert arb.agents_may_start and arb.holder == "mei"
    assert arb.speech_started("ana") == [Duck("mei", "t1", "ana")], "a later onset ducks anew"


def test_holds_of_two_people_release_only_when_both_came_to_nothing() -> None:
    arb, _ = speaking()
    assert arb.speech_suspected("ana") == [Hold("mei", "t1", "ana")]
    assert arb.speech_suspected("bo") == [], "already held"
    assert arb.suspicion_cleared("ana") == []
    assert arb.suspicion_cleared("bo") == [Release("mei", "t1", "bo")]


def test_a_hold_is_not_released_over_someone_who_speaks() -> None:
    arb, _ = speaking()
    assert arb.speech_suspected("ana") == [Hold("mei", "t1", "ana")]
    assert arb.speech_started("bo") == [Duck("mei", "t1", "bo", held=True)]
    assert arb.suspicion_cleared("ana") == [], "bo still claims the turn"
    assert arb.speech_suspected("cy") == [], "ducked already: nothing to hold"


def test_suspicions_follow_the_echo_guard_and_half_duplex() -> None:
    arb, clock = arbiter()
    arb.agent_started("mei", "t1")
    clock.advance(0.1)
    assert arb.speech_suspected("ana") == [], "the agent's own voice coming back"
    assert arb.suspicion_cleared("ana") == []
    arb, _ = speaking(half_duplex=True)
    assert arb.speech_suspected("ana") == []
    arb, _ = arbiter()
    assert arb.speech_suspected("ana") == [], "nobody speaking: nothing to hold"


def test_a_person_who_leaves_while_suspected_releases_the_hold() -> None:
    arb, _ = speaking()
    arb.speech_suspected("ana")
    assert arb.left("ana") == [Release("mei", "t1", "ana")]


def test_echo_guard_ignores_onsets_right_after_the_agent_starts() -> None:
    arb, clock = arbiter()
    arb.agent_started("mei", "t1")
    clock.advance(0.1)  # inside the warm-up window: the agent's own voice through a speaker
    assert arb.speech_started("ana") == []
    assert arb.speech_progress("ana", voiced=1.0, words="blah blah") == []
    assert arb.holder == "mei" and arb.agents_may_start
    clock.advance(0.5)
    assert arb.speech_started("ana") == [Duck("mei", "t1", "ana")]


@pytest.mark.parametrize(
    ("who", "stopped_before", "ducks"),
    [
        ("ana", 0.4, True),  # answered inside her pause: she goes on with her sentence
        ("ana", 1.3, True),  # (her whole gap within ``resume_within``)
        ("ana", 2.0, False),  # stopped long before: her onset now may be the agent's echo
        ("bo", 0.4, False),  # someone else: the echo guard holds
    ],
    ids=["short-pause", "pause-within-the-window", "long-ago", "someone-else"],
)
def test_a_person_answered_inside_a_pause_may_go_on_through_the_echo_guard(
    who: str, stopped_before: float, ducks: bool
) -> None:
    arb, clock = arbiter(resume_within=1.4)
    arb.speech_started("ana")
    clock.advance(1.0)
    arb.speech_ended("ana", "had he married")
    arb.handed_off("ana")
    clock.advance(stopped_before - 0.1)
    arb.agent_started("mei", "t1")  # the answer begins inside her pause
    clock.advance(0.1)  # …and a voice comes within the echo guard's warm-up
    assert arb.speech_started(who) == ([Duck("mei", "t1", who)] if ducks else [])
    assert arb.accepted(who) is ducks


def test_half_duplex_rooms_never_duck() -> None:
    arb, clock = speaking(half_duplex=True)
    clock.advance(5)
    assert arb.speech_started("ana") == []
    assert arb.speech_ended("ana", "hello there") == []


def test_a_person_speaking_in_a_gap_holds_the_floor_against_agents() -> None:
    arb, _ = arbiter()
    assert arb.speech_started("ana") == []
    assert arb.holder == "ana" and not arb.agents_may_start
    assert arb.speech_ended("ana", "") == []
    assert arb.agents_may_start


def test_the_turn_ending_while_ducked_leaves_nothing_to_resume() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    arb.agent_ended("t1")
    assert arb.speech_ended("ana", "") == []


def test_a_typed_message_cuts_the_speaker_at_once() -> None:
    arb, _ = speaking()
    assert arb.typed("ana") == [Interrupt("mei", "t1", "ana", "typed", "typed message")]
    assert arb.typed("ana") == []


# ── agent interjections ───────────────────────────────────────────────────────
def test_min_floor_protects_a_new_speaker() -> None:
    arb, clock = speaking()
    decision = arb.bid("shuai", 0.9)
    assert isinstance(decision, Deny) and "min floor" in decision.reason
    clock.advance(2.5)
    assert arb.bid("shuai", 0.9) == Interrupt("mei", "t1", "shuai", "agent", "bid", 0.25)
    assert arb.bid("lin", 0.9) == Deny("lin", "nobody is speaking")  # one grant per turn


def test_low_urgency_loses_until_the_turn_runs_past_max_turn() -> None:
    arb, clock = speaking()
    clock.advance(5)
    decision = arb.bid("shuai", 0.3)
    assert isinstance(decision, Deny) and "urgency" in decision.reason
    clock.advance(20)
    assert arb.bid("shuai", 0.3) == Interrupt("mei", "t1", "shuai", "agent", "max turn", 0.25)


def test_cooldown_per_agent_and_budget_per_debate() -> None:
    arb, clock = speaking()
    clock.advance(5)
    assert isinstance(arb.bid("shuai", 0.9), Interrupt)
    arb.agent_ended("t1")
    arb.agent_started("mei", "t2")
    clock.advance(4)
    cooled = arb.bid("shuai", 0.9)
    assert isinstance(cooled, Deny) and "cooldown" in cooled.reason
    assert isinstance(arb.bid("lin", 0.9), Interrupt)  # another agent is not cooling down
    arb.agent_ended("t2")
    arb.agent_started("mei", "t3")
    clock.advance(20)
    spent = arb.bid("shuai", 0.9)
    assert isinstance(spent, Deny) and "budget" in spent.reason
    arb.new_debate()
    arb.agent_started("mei", "t4")
    clock.advance(20)
    assert isinstance(arb.bid("shuai", 0.9), Interrupt)
    arb.new_debate(budget=0)  # a debate may set its own budget
    arb.agent_started("mei", "t5")
    clock.advance(20)
    assert isinstance(arb.bid("shuai", 0.9), Deny)


def test_no_bids_against_a_person_or_oneself_or_silence() -> None:
    arb, clock = arbiter()
    assert arb.bid("shuai", 1.0) == Deny("shuai", "nobody is speaking")
    arb.agent_started("mei", "t1")
    clock.advance(5)
    assert arb.bid("mei", 1.0) == Deny("mei", "already holds the floor")
    arb.speech_started("ana")
    assert isinstance(arb.bid("shuai", 1.0), Deny)


def test_agent_started_is_idempotent_per_turn() -> None:
    arb, clock = speaking()
    clock.advance(2.5)
    arb.agent_started("mei", "t1")  # a second driver reporting the same turn
    assert isinstance(arb.bid("shuai", 0.9), Interrupt)
