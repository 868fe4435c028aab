"""The offline demo brain: a deterministic scripted debater.

It is topic-aware (the topic is woven into its lines), answers the opponent's last turn
(it quotes a phrase of it back), and draws from per-temperament phrase banks with a seeded
random generator, so one debate does not repeat itself and the same seed replays it exactly.
It is a demo: every reply it produces is labelled ``scripted-demo`` in task metadata.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
from collections.abc import AsyncIterator

from agents.brains.brain import BrainRequest
from agents.debate.bidding import BidRequest
from agents.persona import Temperament

_OPENERS = {
    Temperament.ANALYTICAL: (
        "Let me put numbers on {topic}.",
        "On {topic}, start with what we can measure.",
        "The case on {topic} turns on three trade-offs.",
        "Before we argue about {topic}, define the terms.",
    ),
    Temperament.CREATIVE: (
        "Picture one ordinary morning shaped by {topic}.",
        "The question {topic} is really about the people it touches.",
        "When I hear {topic}, I think about who gets left out.",
        "On {topic}, let me start with how it feels from the inside.",
    ),
}

_ARGUMENTS = {
    Temperament.ANALYTICAL: (
        "The costs arrive up front, while the benefits compound slowly over years.",
        "Every pilot study I know of shows gains that shrink once the novelty wears off.",
        "If we cannot measure the outcome, we cannot tell success from wishful thinking.",
        "The second-order effects matter more than the headline number.",
        "A policy that works for the median case can still fail the tails badly.",
        "We should compare this with the cheapest alternative, not with doing nothing.",
        "Incentives decide behaviour, and the incentives here point the wrong way.",
        "The data is noisy, so the honest answer is a range, not a slogan.",
    ),
    Temperament.CREATIVE: (
        "People do not live in averages; they live in particular kitchens and buses.",
        "Trust is built slowly, and this change would spend it quickly.",
        "A rule that nobody feels part of will be quietly ignored.",
        "The quietest voices in the room usually carry the real cost.",
        "Imagine explaining this decision to a child ten years from now.",
        "Communities invent better answers than any spreadsheet when we let them.",
        "What we build says who we believe we are.",
        "Dignity is not a line item, yet every plan either honours it or erodes it.",
    ),
}

_REBUTTALS = {
    Temperament.ANALYTICAL: (
        'You said "{quote}", but that is an anecdote, not evidence.',
        'On "{quote}": show me the baseline and I will take it seriously.',
        'I hear "{quote}". The question is how often, and at what cost.',
        '"{quote}" sounds right, yet the numbers tell a more mixed story.',
    ),
    Temperament.CREATIVE: (
        'You said "{quote}", and I want to ask who that leaves behind.',
        '"{quote}" is tidy on paper, but people are not tidy.',
        'I understand "{quote}", yet numbers cannot feel the loss.',
        'When you say "{quote}", I hear a plan without a person in it.',
    ),
}

_CLOSERS = {
    Temperament.ANALYTICAL: (
        "So test it small, measure it honestly, then decide.",
        "The burden of proof sits with whoever wants the change.",
        "That is the trade-off, stated plainly.",
    ),
    Temperament.CREATIVE: (
        "Let us choose the version we would be proud to live in.",
        "Start with the people, and the details will follow.",
        "That is what is at stake, underneath the figures.",
    ),
}

_ANSWERS_TO_USER = {
    Temperament.ANALYTICAL: (
        "Good question. Here is how I would break it down.",
        "Fair point; let me weigh it.",
    ),
    Temperament.CREATIVE: (
        "Thank you for saying that; it matters.",
        "I love that you raised it.",
    ),
}

_CUT_INS = {
    Temperament.ANALYTICAL: (
        'Let me stop you at "{quote}", because the evidence says otherwise.',
        'Sorry to cut in, but "{quote}" needs a number behind it.',
    ),
    Temperament.CREATIVE: (
        'Wait, "{quote}"? That leaves people out of the picture.',
        'Can I jump in? "{quote}" is exactly where this goes wrong.',
    ),
}

# Claims each temperament rejects on sight: the scripted brain bids to cut in on them.
_REJECTS = {
    Temperament.ANALYTICAL: frozenset(
        "imagine feel feels dignity trust believe child proud honours people kitchens".split()
    ),
    Temperament.CREATIVE: frozenset(
        "numbers data measure measured cost costs evidence median incentives baseline "
        "spreadsheet pilot trade-off".split()
    ),
}
LONG_TURN_WORDS = 45  # past this many words, the other side wants the floor back

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


def _quote_from(text: str, rng: random.Random) -> str:
    """A clause (at most seven words) of someone else's turn, to answer it directly."""
    clauses = [c.strip() for c in re.split(r"[.;:!?,\"]", text) if len(_WORD.findall(c)) >= 3]
    if not clauses:
        return " ".join(_WORD.findall(text)) or text.strip()
    words = rng.choice(clauses).split()
    return " ".join(words[:7]).lower()


def _topic_phrase(request: BrainRequest) -> str:
    topic = (request.topic or request.prompt).strip().rstrip("?.!")
    topic = topic if len(topic) <= 80 else topic[:77].rsplit(" ", 1)[0] + "..."
    return f'"{topic}"'


class ScriptedBrain:
    """Deterministic offline debater; ``seed`` fixes the whole debate."""

    label = "scripted-demo"

    def __init__(self, seed: int = 7, words_per_second: float = 30.0) -> None:
        self._seed = seed
        self._delay = 1.0 / words_per_second if words_per_second > 0 else 0.0

    def compose(self, request: BrainRequest) -> str:
        """The whole reply for ``request`` (pure: same request and seed, same text)."""
        key = f"{self._seed}|{request.context_id}|{request.persona.name}|{request.turn_index}"
        rng = random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
        temperament = request.persona.temperament
        if temperament not in _OPENERS:
            temperament = Temperament.ANALYTICAL
        topic = _topic_phrase(request)
        sentences: list[str] = []
        other = request.last_from_others()
        if request.cut_in:
            quote = _quote_from(request.cut_in, rng)
            sentences.append(rng.choice(_CUT_INS[temperament]).format(quote=quote))
        elif request.topic is None and other is None:
            sentences.append(rng.choice(_ANSWERS_TO_USER[temperament]))
        elif other is not None and other.speaker == "user":
            sentences.append(rng.choice(_ANSWERS_TO_USER[temperament]))
            quote = _quote_from(other.text, rng)
            sentences.append(rng.choice(_REBUTTALS[temperament]).format(quote=quote))
        elif other is not None:
            quote = _quote_from(other.text, rng)
            sentences.append(rng.choice(_REBUTTALS[temperament]).format(quote=quote))
        else:
            sentences.append(rng.choice(_OPENERS[temperament]).format(topic=topic))
        # Skip arguments this persona already made in the context, so turns do not repeat.
        said = {u.text for u in request.history if u.speaker == request.persona.name}
        fresh = [a for a in _ARGUMENTS[temperament] if not any(a in s for s in said)]
        pool = fresh or list(_ARGUMENTS[temperament])
        sentences.extend(rng.sample(pool, k=min(2, len(pool))))
        sentences.append(rng.choice(_CLOSERS[temperament]))
        text = " ".join(sentences)
        return text[0].upper() + text[1:]

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        text = self.compose(request)
        if not self._delay:  # unpaced: one chunk per sentence
            for index, sentence in enumerate(re.split(r"(?<=[.!?]) ", text)):
                yield sentence if index == 0 else " " + sentence
            return
        words = text.split(" ")
        for index, word in enumerate(words):
            if self._delay:
                await asyncio.sleep(self._delay)
            yield word if index == 0 else " " + word

    async def bid(self, request: BidRequest) -> float | None:
        """Cuts in on a claim this temperament rejects, or on a turn that runs long."""
        temperament = request.persona.temperament
        words = {w.lower() for w in _WORD.findall(request.heard)}
        rejected = len(words & _REJECTS.get(temperament, frozenset()))
        length = len(request.turn_so_far.split())
        urgency = 0.0
        if rejected:
            urgency = min(0.95, 0.55 + 0.15 * rejected)
        if length > LONG_TURN_WORDS:
            urgency = max(urgency, min(0.9, 0.4 + 0.01 * (length - LONG_TURN_WORDS)))
        return urgency or None

    async def aclose(self) -> None:
        return None
