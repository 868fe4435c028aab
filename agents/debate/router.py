"""Intent router: which debater answers a person's message.

Pure decision: a debater named in the text answers; otherwise analytical intent (numbers,
evidence, cost, why/how) goes to the analytical debater and creative or emotional intent
(feelings, stories, people, imagine) to the creative one. Ties go to whoever spoke least
recently, so a conversation alternates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from agents.persona import Persona, Temperament

_ANALYTICAL = frozenset(
    """analyze analyse analysis data evidence number numbers statistics stats cost costs price
    budget percent percentage measure metric metrics compare comparison logic logical proof prove
    calculate math risk risks trade tradeoff tradeoffs efficient efficiency study studies research
    fact facts why how much many economics economic probability rational reason""".split()
)
_CREATIVE = frozenset(
    """feel feels feeling feelings story stories imagine imagination people person family families
    children child kids love hope fear dream dreams creative art beautiful sad happy lonely empathy
    heart values value meaning community friends friend life human humans emotion emotions care
    kind kindness worried afraid""".split()
)
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class RouteDecision:
    agent: str
    reason: str  # "addressed", "analytical", "creative" or "alternate"


def route(
    text: str, debaters: Sequence[Persona], recent_speakers: Sequence[str] = ()
) -> RouteDecision:
    """Picks the debater who answers ``text``; ``recent_speakers`` is oldest→newest."""
    if not debaters:
        raise ValueError("no debaters to route to")
    for persona in debaters:
        if persona.addressed_in(text):
            return RouteDecision(persona.name, "addressed")
    words = _WORD.findall(text.lower())
    analytical = sum(w in _ANALYTICAL for w in words)
    creative = sum(w in _CREATIVE for w in words)
    wanted: Temperament | None = None
    if analytical > creative:
        wanted = Temperament.ANALYTICAL
    elif creative > analytical:
        wanted = Temperament.CREATIVE
    if wanted is not None:
        for persona in debaters:
            if persona.temperament is wanted:
                return RouteDecision(persona.name, wanted.value)

    def last_spoke(persona: Persona) -> int:
        names = list(recent_speakers)
        return max((i for i, n in enumerate(names) if n == persona.name), default=-1)

    return RouteDecision(min(debaters, key=last_spoke).name, "alternate")
