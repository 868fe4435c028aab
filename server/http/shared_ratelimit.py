"""One rate limit for a cluster of replicas: the buckets live in the shared database
(``store.rate_buckets``); each replica spends from a local allowance and withdraws the next
one (a tenth of the burst, or the request's cost if more) only when it runs out. The cluster
never spends more than its buckets hold; a replica holds at most one allowance per key
unused. A refused request changes nothing, and is refused locally for up to a second after
(a client that keeps knocking does not reach the database each time).

Why the database and not another engine: replicas already share it, it is the one thing
every deployment of replicas has, and a withdrawal is one short row-locked transaction per
allowance (a tenth of a burst), not per request."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncEngine

from server.http.ratelimit import Rate
from store.rate_buckets import withdraw

ALLOWANCE = 0.1  # of the burst, withdrawn at a time
REFUSED_FOR = 1.0  # seconds at most a refusal is repeated without asking the database


class SharedRateLimiter:
    def __init__(
        self,
        rates: dict[str, Rate],
        engine: AsyncEngine,
        clock: Callable[[], float] = time.time,
        max_keys: int = 50_000,
    ) -> None:
        self._rates = rates
        self._engine = engine
        self._clock = clock
        self._max = max_keys
        self._allowance: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._refused: dict[tuple[str, str], float] = {}  # until when

    def _remember(self, slot: tuple[str, str], tokens: float) -> None:
        self._allowance[slot] = tokens
        self._allowance.move_to_end(slot)
        while len(self._allowance) > self._max:
            self._allowance.popitem(last=False)

    async def acquire(self, kind: str, keys: Iterable[str], cost: float = 1.0) -> float:
        """Charges ``cost`` of ``kind`` to each key; 0 if it went through, else the seconds
        to wait (nothing charged)."""
        rate = self._rates.get(kind)
        if rate is None:
            return 0.0
        now = self._clock()
        need = min(cost, rate.burst)
        slots = [(kind, key) for key in keys]
        for slot in slots:
            until = self._refused.get(slot, 0.0)
            if until > now:
                return until - now
            if self._allowance.get(slot, 0.0) >= need:
                continue
            want = max(need, rate.burst * ALLOWANCE)
            got = await withdraw(
                self._engine, kind, slot[1], rate.per_second, rate.burst, need, want, now
            )
            if got.granted <= 0:
                self._refused[slot] = now + min(got.wait, REFUSED_FOR)
                if len(self._refused) > self._max:
                    self._refused = {s: u for s, u in self._refused.items() if u > now}
                return got.wait
            self._remember(slot, self._allowance.get(slot, 0.0) + got.granted)
        for slot in slots:
            self._remember(slot, self._allowance.get(slot, 0.0) - need)
        return 0.0
