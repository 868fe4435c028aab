"""The arbiter on scripted timelines with a fake clock: every policy rule, one at a time."""

from __future__ import annotations

from dataclasses import replace

from agents.arbiter import Arbiter, Deny, Duck, FloorPolicy, Interrupt, Resume


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
def test_onset_ducks_the_speaking_agent_and_confirmed_speech_interrupts_it() -> None:
    arb, clock = speaking()
    assert arb.speech_started("ana") == [Duck("mei", "t1", "ana")]
    assert arb.holder == "mei"  # ducked, not yet cut
    assert arb.speech_progress("ana", voiced=0.2) == []
    clock.advance(0.3)
    decisions = arb.speech_progress("ana", voiced=0.42)
    assert decisions == [Interrupt("mei", "t1", "ana", "human", "speech")]
    assert arb.holder == "ana"
    assert not arb.agents_may_start
    assert arb.speech_ended("ana", "what about the cost") == []
    assert not arb.agents_may_start  # until the utterance is handed off as a turn
    arb.handed_off("ana")
    assert arb.agents_may_start and arb.holder is None


def test_a_first_real_word_confirms_before_the_minimum_duration() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    assert arb.speech_progress("ana", voiced=0.1, words="wait") == [
        Interrupt("mei", "t1", "ana", "human", "word")
    ]


def test_word_confirmation_can_be_switched_off() -> None:
    arb, _ = speaking(confirm_on_word=False)
    arb.speech_started("ana")
    assert arb.speech_progress("ana", voiced=0.1, words="wait") == []
    assert arb.speech_progress("ana", voiced=0.4, words="wait") != []


def test_a_noise_false_start_resumes_the_ducked_agent() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    arb.speech_progress("ana", voiced=0.1)
    assert arb.speech_ended("ana", "") == [Resume("mei", "t1", "ana", "noise")]
    assert arb.holder == "mei" and arb.agents_may_start


def test_a_backchannel_never_interrupts() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    assert arb.speech_progress("ana", voiced=0.2, words="mm-hm") == []
    assert arb.speech_ended("ana", "mm-hm yeah") == [Resume("mei", "t1", "ana", "backchannel")]


def test_a_short_real_utterance_interrupts_when_it_ends() -> None:
    arb, _ = speaking()
    arb.speech_started("ana")
    assert arb.speech_ended("ana", "no") == [Interrupt("mei", "t1", "ana", "human", "utterance")]


def test_echo_guard_ignores_onsets_right_after_the_agent_starts() -> None:
    arb, clock = arbiter()
    arb.agent_started("mei", "t1")
    clock.advance(0.1)  # inside the warm-up window: the agent's own voice through a speaker
    assert arb.speech_started("ana") == []
    assert arb.speech_progress("ana", voiced=1.0, words="blah blah") == []
    assert arb.holder == "mei" and arb.agents_may_start
    clock.advance(0.5)
    assert arb.speech_started("ana") == [Duck("mei", "t1", "ana")]


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
