from __future__ import annotations

import pytest

from agents.debate.router import route
from agents.persona import DEFAULT_DEBATERS


@pytest.mark.parametrize(
    ("text", "agent", "reason"),
    [
        ("Mei, what do you think?", "mei", "addressed"),
        ("@shuai is that true", "shuai", "addressed"),
        ("What does the data say about the cost?", "shuai", "analytical"),
        ("How would families feel about this?", "mei", "creative"),
        ("I'm worried about the children in my community", "mei", "creative"),
        ("Compare the evidence from the studies", "shuai", "analytical"),
    ],
)
def test_route_by_name_then_intent(text: str, agent: str, reason: str) -> None:
    decision = route(text, DEFAULT_DEBATERS)
    assert (decision.agent, decision.reason) == (agent, reason)


def test_names_inside_words_do_not_count() -> None:
    assert route("the meiosis of cells, by the data", DEFAULT_DEBATERS).agent == "shuai"


def test_no_intent_alternates_to_least_recent_speaker() -> None:
    assert route("ok then", DEFAULT_DEBATERS, ["mei", "shuai"]).agent == "mei"
    assert route("ok then", DEFAULT_DEBATERS, ["shuai", "mei"]).agent == "shuai"
    assert route("ok then", DEFAULT_DEBATERS, []).reason == "alternate"
