"""The turn-taking arbiter: who holds a conversation's floor, and who may take it.

A pure state machine — events in, decisions out, time from an injected clock. Humans and
agents are speakers alike; the drivers (a voice room, a debate) report what happens and carry
out the decisions:

human barge-in   a suspected onset (breath, frication) over a speaking agent → ``Hold``,
                 given back (``Release``) if no speech follows;
                 onset over a speaking agent → ``Duck`` (unless the echo guard holds);
                 confirmed by a real word (partial, once ``confirm_after`` seconds are
                 voiced, or the final transcript) → ``Interrupt``; ended with no words or a
                 backchannel, voiced too long with no word (a beep, a fan), or the person
                 left → ``Resume`` where the agent paused.
agent bids       while an agent speaks, another bids with an urgency → ``Grant`` (the speaker
                 is cut, with a short trailing overlap) or ``Deny`` with the rule that said no.
floor            while a person holds the floor, agents wait (``agents_may_start``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from media.end_of_turn import CONTINUATIONS

Clock = Callable[[], float]
_WORD = re.compile(r"[a-z][a-z'-]*")


@dataclass(frozen=True)
class FloorPolicy:
    # human barge-in
    confirm_after: float = 0.4  # seconds of voiced speech before a recognized word cuts in
    min_voiced: float = 0.12  # seconds of voice an utterance needs to be a turn (a cough has
    # less, whatever words a recognizer makes of it; "no" has about 0.3)
    confirm_on_word: bool = True  # partial words cut in (False: only the final transcript)
    wordless_limit: float = 1.5  # voiced seconds with no word: a ducked agent resumes
    # …counted in what the recognizer has heard; one further behind than this is not waited
    # for (a hung recognizer must not let a fan hold the floor)
    wordless_lag: float = 3.0
    backchannels: frozenset[str] = frozenset(
        "mm mhm hm hmm uh-huh uh huh yeah yes right okay ok sure ah oh mm-hm i see".split()
    )
    # words that alone make no turn (a recognizer's guess at a hum or a breath; so is any
    # single letter), and words that only start a sentence ("he", "unless to": someone who
    # stopped to think, waited out by the end of turn, is not answered for them)
    hollow: frozenset[str] = CONTINUATIONS | {"it"}
    echo_warmup: float = 0.3  # onsets this soon after an agent starts are its own echo…
    resume_within: float = 1.4  # …but not a person's who stopped this long ago or less when
    # it started: answered inside a pause, they may go on (the end of turn's fallback)
    half_duplex: bool = False  # people cannot barge in while an agent speaks
    # agent interjections
    min_floor: float = 4.0  # a speaker holds the floor this long before anyone may cut in
    max_turn: float = 25.0  # past this, any bid wins, whatever its urgency
    min_urgency: float = 0.6  # below this a bid is denied (until max_turn)
    cooldown: float = 10.0  # seconds between two interruptions by the same agent
    budget: int = 2  # agent interruptions per debate
    overlap: float = 0.25  # the interrupted voice trails off this long under the interrupter

    def __post_init__(self) -> None:
        """Checked where it is made (the ``[floor]`` table is this object): a value out of
        range is a configuration error that names the key."""
        for name, low, high in _BOUNDS:
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"floor.{name} must be from {low} to {high} (got {value})")
        for name in ("backchannels", "hollow"):
            object.__setattr__(self, name, frozenset(w.lower() for w in getattr(self, name)))


_BOUNDS: tuple[tuple[str, float, float], ...] = (
    ("confirm_after", 0.05, 3.0),
    ("min_voiced", 0.0, 2.0),
    ("wordless_limit", 0.2, 30.0),
    ("wordless_lag", 0.0, 30.0),
    ("echo_warmup", 0.0, 3.0),
    ("resume_within", 0.0, 10.0),
    ("min_floor", 0.0, 3600.0),
    ("max_turn", 1.0, 3600.0),
    ("min_urgency", 0.0, 1.0),
    ("cooldown", 0.0, 3600.0),
    ("budget", 0, 1000),
    ("overlap", 0.0, 1.0),
)


# ── decisions ────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Duck:
    agent: str
    turn_id: str
    by: str
    held: bool = False  # the voice was already held (a suspected onset): only say so


@dataclass(frozen=True)
class Hold:
    """Pause the agent's voice: someone may be starting to speak."""

    agent: str
    turn_id: str
    by: str


@dataclass(frozen=True)
class Release:
    """Go on where the voice was held: no speech came."""

    agent: str
    turn_id: str
    by: str


@dataclass(frozen=True)
class Resume:
    agent: str
    turn_id: str
    by: str
    reason: str  # "no words", "backchannel", "left"


@dataclass(frozen=True)
class Interrupt:
    agent: str
    turn_id: str
    by: str
    kind: str  # "human" or "agent"
    reason: str
    overlap: float = 0.0  # seconds the cut voice may trail off


@dataclass(frozen=True)
class Deny:
    agent: str
    reason: str


Decision = Duck | Hold | Release | Resume | Interrupt | Deny


@dataclass
class _AgentTurn:
    agent: str
    turn_id: str
    started: float
    claimants: list[str] = field(default_factory=list)  # people whose speech ducked it
    holders: list[str] = field(default_factory=list)  # people whose suspected onset holds it

    @property
    def ducked_by(self) -> str | None:
        """The first person still claiming the floor over this turn (None: not ducked)."""
        return self.claimants[0] if self.claimants else None


@dataclass
class _Human:
    onset: float
    ducked: _AgentTurn | None = None  # the turn this person's onset ducked
    confirmed: bool = False
    dismissed: bool = False  # voiced too long with no word: not holding the floor
    resumed: _AgentTurn | None = None  # the turn given back on dismissal (words may cut it)
    voiced: float = 0.0  # seconds of voice so far


@dataclass
class Arbiter:
    policy: FloorPolicy
    clock: Clock
    turn: _AgentTurn | None = None
    humans: dict[str, _Human] = field(default_factory=dict)
    interruptions: int = 0  # agent interruptions granted in this debate
    budget: int | None = None  # this debate's budget (None: the policy's)
    _last_interrupt: dict[str, float] = field(default_factory=dict)
    _stopped: dict[str, float] = field(default_factory=dict)  # when each person last stopped

    # ── queries ──────────────────────────────────────────────────────────────
    @property
    def holder(self) -> str | None:
        """Who holds the floor: a speaking person first, then the speaking agent."""
        for who, human in self.humans.items():
            if not human.dismissed and (human.confirmed or human.ducked is None):
                return who
        return self.turn.agent if self.turn else None

    @property
    def agents_may_start(self) -> bool:
        """False while a person holds (or is claiming) the floor."""
        return all(human.dismissed for human in self.humans.values())

    def accepted(self, who: str) -> bool:
        """The floor took ``who``'s running utterance (not the echo guard's or half duplex)."""
        return who in self.humans

    def is_turn(self, who: str, text: str) -> bool:
        """Whether ``who``'s utterance ``text`` takes a turn: real words, voiced long enough."""
        human = self.humans.get(who)
        short = human is not None and human.voiced < self.policy.min_voiced
        return bool(text.strip()) and not self.is_backchannel(text) and not short

    def why_not(self, text: str) -> str:
        """Why an utterance took no turn (the ``Resume`` reason)."""
        if not text.strip():
            return "no words"
        return "backchannel" if self.is_backchannel(text) else "too short"

    def is_backchannel(self, text: str) -> bool:
        """Only backchannels ("mm-hm", "yeah") and hollow words ("for", "the"): no turn."""
        words = _WORD.findall(text.lower())
        policy = self.policy
        return all(w in policy.backchannels or w in policy.hollow or len(w) == 1 for w in words)

    # ── agents ───────────────────────────────────────────────────────────────
    def agent_started(self, agent: str, turn_id: str) -> None:
        if self.turn is None or self.turn.turn_id != turn_id:
            self.turn = _AgentTurn(agent, turn_id, self.clock())

    def agent_ended(self, turn_id: str) -> None:
        if self.turn is not None and self.turn.turn_id == turn_id:
            self.turn = None
        for human in self.humans.values():
            if human.ducked is not None and human.ducked.turn_id == turn_id:
                human.ducked = None

    def new_debate(self, budget: int | None = None) -> None:
        self.interruptions = 0
        self.budget = budget
        self._last_interrupt.clear()

    def bid(self, agent: str, urgency: float) -> Interrupt | Deny:
        """An agent asks to cut in on the current speaker: ``Interrupt`` or ``Deny``."""
        now = self.clock()
        turn = self.turn
        if turn is None:
            return Deny(agent, "nobody is speaking")
        if turn.agent == agent:
            return Deny(agent, "already holds the floor")
        if not self.agents_may_start:
            return Deny(agent, "a person holds the floor")
        if turn.ducked_by is not None:
            return Deny(agent, "the speaker is ducked for a person")
        held = now - turn.started
        if held < self.policy.min_floor:
            return Deny(agent, f"min floor: speaker has held it {held:.1f}s")
        budget = self.policy.budget if self.budget is None else self.budget
        if self.interruptions >= budget:
            return Deny(agent, "interruption budget spent")
        last = self._last_interrupt.get(agent)
        if last is not None and now - last < self.policy.cooldown:
            return Deny(agent, f"cooldown: interrupted {now - last:.1f}s ago")
        if urgency < self.policy.min_urgency and held < self.policy.max_turn:
            return Deny(agent, f"urgency {urgency:.2f} below {self.policy.min_urgency:.2f}")
        self.interruptions += 1
        self._last_interrupt[agent] = now
        self.turn = None
        reason = "max turn" if held >= self.policy.max_turn else "bid"
        return Interrupt(turn.agent, turn.turn_id, agent, "agent", reason, self.policy.overlap)

    # ── people ───────────────────────────────────────────────────────────────
    def _may_barge_in(self, turn: _AgentTurn, who: str) -> bool:
        """``who`` may cut into ``turn``: not in a half-duplex room; past the echo guard, or
        going on after a pause that ``turn`` started in."""
        now, stopped = self.clock(), self._stopped.get(who, -math.inf)
        resuming = stopped <= turn.started and now - stopped <= self.policy.resume_within
        warm = now - turn.started >= self.policy.echo_warmup
        return (warm or resuming) and not self.policy.half_duplex

    def speech_suspected(self, who: str) -> list[Decision]:
        """Breath or frication that may start ``who``'s speech: the speaking agent holds its
        voice at once (speech is confirmed tens of ms later, or the hold is released)."""
        turn = self.turn
        if turn is None or who in self.humans or who in turn.holders:
            return []
        if not self._may_barge_in(turn, who):
            return []
        paused = bool(turn.holders) or turn.ducked_by is not None
        turn.holders.append(who)
        return [] if paused else [Hold(turn.agent, turn.turn_id, who)]

    def suspicion_cleared(self, who: str) -> list[Decision]:
        """No speech came of ``who``'s suspected onset: a voice only it held goes on."""
        turn = self.turn
        if turn is None or who not in turn.holders:
            return []
        turn.holders.remove(who)
        if turn.holders or turn.ducked_by is not None:
            return []
        return [Release(turn.agent, turn.turn_id, who)]

    def speech_started(self, who: str) -> list[Decision]:
        now = self.clock()
        human = _Human(onset=now)
        self.humans[who] = human
        turn = self.turn
        if turn is None:
            return []
        held = bool(turn.holders)
        if who in turn.holders:
            turn.holders.remove(who)
        if not self._may_barge_in(turn, who):
            # The echo guard: the agent's own voice coming back, or a half-duplex room.
            del self.humans[who]
            return []
        # Everyone who speaks over the turn claims it: whoever confirms first cuts it, and it
        # resumes only once every claimant has let go (two people at once, one a false start).
        ducked = turn.ducked_by is not None
        if who not in turn.claimants:
            turn.claimants.append(who)
        human.ducked = turn
        return [] if ducked else [Duck(turn.agent, turn.turn_id, who, held)]

    def speech_progress(
        self, who: str, voiced: float, words: str = "", listened: float | None = None
    ) -> list[Decision]:
        """While a person speaks: ``voiced`` seconds of speech so far, the words heard so far
        in the first ``listened`` of them (None: in all; a recognizer may lag the voice). An
        utterance is wordless only once its recognizer has heard ``wordless_limit`` of it, or
        the recognizer is more than ``wordless_lag`` behind."""
        human = self.humans.get(who)
        if human is not None:
            human.voiced = max(human.voiced, voiced)
        if human is None or human.confirmed or human.dismissed:
            return []
        real = bool(words.strip()) and not self.is_backchannel(words)
        if real and self.policy.confirm_on_word and voiced >= self.policy.confirm_after:
            return self._confirm(who, human, "word")
        lag = self.policy.wordless_lag
        heard = voiced if listened is None else min(voiced, max(listened, voiced - lag))
        if not words.strip() and heard >= self.policy.wordless_limit:
            human.dismissed = True  # a tone, a fan, a beep: the floor goes back
            return self._release(who, human, "no words")
        return []

    def speech_ended(self, who: str, text: str) -> list[Decision]:
        """The person stopped; ``text`` is the final transcript. A real utterance keeps the
        floor until ``handed_off``; anything else releases it and resumes a ducked agent."""
        self._stopped[who] = self.clock()
        human = self.humans.get(who)
        if human is None:
            return []
        real = self.is_turn(who, text)
        if real:
            human.dismissed = False
            if human.resumed is not None and human.resumed is self.turn:
                human.ducked, human.resumed = human.resumed, None  # words came after all
            if not human.confirmed:
                return self._confirm(who, human, "utterance")
            return []
        del self.humans[who]
        return self._release(who, human, self.why_not(text))

    def left(self, who: str) -> list[Decision]:
        """The person left the room (page closed, track ended, socket dropped)."""
        released = self.suspicion_cleared(who)
        self._stopped.pop(who, None)
        human = self.humans.pop(who, None)
        return released if human is None else released + self._release(who, human, "left")

    def handed_off(self, who: str) -> None:
        """The person's utterance has become a turn: agents may take the floor again."""
        self.humans.pop(who, None)

    def typed(self, who: str) -> list[Decision]:
        """A typed message: an utterance confirmed at once."""
        turn = self.turn
        if turn is None:
            return []
        self.turn = None
        return [Interrupt(turn.agent, turn.turn_id, who, "typed", "typed message")]

    def _release(self, who: str, human: _Human, reason: str) -> list[Decision]:
        """The person no longer claims the floor: a turn they ducked resumes."""
        turn = human.ducked
        human.ducked = None
        if turn is None or self.turn is not turn or who not in turn.claimants:
            return []
        turn.claimants.remove(who)
        human.resumed = turn  # words may still come and cut it
        if turn.claimants:  # someone else still speaks over it: it stays ducked
            return []
        return [Resume(turn.agent, turn.turn_id, who, reason)]

    def _confirm(self, who: str, human: _Human, why: str) -> list[Decision]:
        human.confirmed = True
        turn = human.ducked
        human.ducked = None
        if turn is None or self.turn is not turn:
            return []
        self.turn = None
        return [Interrupt(turn.agent, turn.turn_id, who, "human", why)]
