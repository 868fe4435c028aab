"""The floors of live conversations: one :class:`Arbiter` per context, shared by its drivers.

A voice room and the debate running in it drive the same floor: the room reports people and
voices, the moderator reports turns and bids. ``wait_for_agents`` lets a debate hold its next
turn while a person has the floor.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from agents.floor.arbiter import Arbiter, Clock, Decision, Deny, FloorPolicy, Interrupt


@dataclass
class Floor:
    """The arbiter of one conversation, as its drivers report to it: every report returns the
    arbiter's decisions and wakes whoever waits for the floor (``wait_for_agents``). Queries go
    to ``arbiter`` directly."""

    arbiter: Arbiter
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def _decided(self, decisions: list[Decision]) -> list[Decision]:
        self._changed.set()
        return decisions

    # people
    def speech_suspected(self, who: str) -> list[Decision]:
        return self._decided(self.arbiter.speech_suspected(who))

    def suspicion_cleared(self, who: str) -> list[Decision]:
        return self._decided(self.arbiter.suspicion_cleared(who))

    def speech_started(self, who: str) -> list[Decision]:
        return self._decided(self.arbiter.speech_started(who))

    def speech_progress(
        self, who: str, voiced: float, words: str = "", listened: float | None = None
    ) -> list[Decision]:
        return self._decided(self.arbiter.speech_progress(who, voiced, words, listened))

    def speech_ended(self, who: str, text: str) -> list[Decision]:
        return self._decided(self.arbiter.speech_ended(who, text))

    def left(self, who: str) -> list[Decision]:
        return self._decided(self.arbiter.left(who))

    def handed_off(self, who: str) -> None:
        self.arbiter.handed_off(who)
        self._changed.set()

    def typed(self, who: str) -> list[Decision]:
        return self._decided(self.arbiter.typed(who))

    # agents
    def agent_started(self, agent: str, turn_id: str) -> None:
        self.arbiter.agent_started(agent, turn_id)
        self._changed.set()

    def agent_ended(self, turn_id: str) -> None:
        self.arbiter.agent_ended(turn_id)
        self._changed.set()

    def new_debate(self, budget: int | None = None) -> None:
        self.arbiter.new_debate(budget)
        self._changed.set()

    def bid(self, agent: str, urgency: float) -> Interrupt | Deny:
        decision = self.arbiter.bid(agent, urgency)
        self._changed.set()
        return decision

    async def wait_for_agents(self, patience: float = 30.0) -> bool:
        """Waits until no person holds the floor; False if ``patience`` ran out first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while not self.arbiter.agents_may_start:
            self._changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return False
        return True


class Floors:
    def __init__(self, policy: FloorPolicy | None = None, clock: Clock = time.monotonic) -> None:
        self.policy = policy or FloorPolicy()
        self._clock = clock
        self._floors: dict[str, Floor] = {}

    def open(self, context_id: str) -> Floor:
        """The floor of ``context_id``, created on first use."""
        floor = self._floors.get(context_id)
        if floor is None:
            floor = Floor(Arbiter(self.policy, self._clock))
            self._floors[context_id] = floor
        return floor

    def get(self, context_id: str) -> Floor | None:
        return self._floors.get(context_id)

    def close(self, context_id: str) -> None:
        self._floors.pop(context_id, None)
