"""The debate plan: order, rounds and cut-ins, with bad requests refused with a reason."""

from __future__ import annotations

from agents.debate.plan import Cue, DebatePlan

KNOWN = ("mei", "shuai", "lin")


def test_turns_go_round_in_order_for_every_round() -> None:
    plan = DebatePlan(("mei", "shuai"), 2)
    cues = []
    while (cue := plan.next()) is not None:
        cues.append((cue.agent, cue.round))
    assert cues == [("mei", 1), ("shuai", 1), ("mei", 2), ("shuai", 2)]
    assert plan.done and plan.next() is None


def test_a_cut_in_gives_the_next_turn_to_the_interrupter_and_the_order_goes_on() -> None:
    plan = DebatePlan(("mei", "shuai", "lin"), 1)
    assert plan.next() == Cue("mei", 1)
    plan.cut_in("lin", "Cars are fine.", "mei")
    assert plan.next() == Cue("lin", 1, "Cars are fine.", "mei")
    assert plan.next() == Cue("mei", 1), "after lin comes mei again; the count goes on"
    assert plan.done
    assert Cue("lin", 1, "x", "mei").metadata("Trams") == {
        "cue": True,
        "topic": "Trams",
        "round": 1,
        "cut_in": "x",
        "interrupting": "mei",
    }


def test_requests_are_parsed_or_refused_with_a_reason() -> None:
    def parse(**meta: object) -> DebatePlan | str:
        return DebatePlan.parse(meta, ("mei", "shuai"), 2, KNOWN)

    assert parse() == DebatePlan(("mei", "shuai"), 2)
    assert parse(speakers=["Lin", "mei"], rounds=3) == DebatePlan(("lin", "mei"), 3)
    assert parse(rounds=3.0) == DebatePlan(("mei", "shuai"), 3)
    for bad in ("x", True, 2.5, [2], {"n": 1}):
        assert "whole number" in str(parse(rounds=bad))
    assert "from 1 to 20" in str(parse(rounds=21))
    assert "unknown debaters: zed" == parse(speakers=["zed"])
    assert "list of debater names" in str(parse(speakers="mei"))
    assert "list of debater names" in str(parse(speakers=[1, 2]))
