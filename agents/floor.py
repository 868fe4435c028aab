"""The floors of live conversations: one :class:`Arbiter` per context, shared by its drivers.

A voice room and the debate running in it drive the same floor: the room reports people and
voices, the moderator reports turns and bids. ``wait_for_agents`` lets a debate hold its next
turn while a person has the floor.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from agents.arbiter import Arbiter, Clock, FloorPolicy


@dataclass
class Floor:
    arbiter: Arbiter
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def changed(self) -> None:
        """Drivers call this after reporting an event that may free the floor."""
        self._changed.set()

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
