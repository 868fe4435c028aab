"""Token buckets per principal and per client address: pure decisions with an injected clock.

Each kind of action (task creation, room creation, joins, audio bytes) has a rate and a burst.
A request is charged to every bucket it belongs to (its principal's, its address's); it goes
through only if all of them hold enough, and then all are charged, so a refused request costs
nothing. The number of buckets kept is bounded (the least recently used are forgotten: a
forgotten bucket is a full one, which only ever errs towards letting a request through).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: float


class TokenBucket:
    def __init__(self, rate: Rate, now: float) -> None:
        self.rate = rate
        self.tokens = rate.burst
        self.updated = now

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.rate.burst, self.tokens + elapsed * self.rate.per_second)
        self.updated = now

    def wait(self, cost: float) -> float:
        """Seconds until ``cost`` tokens are there (0: now). A cost over the burst is charged
        as the whole burst, so one big request is slowed rather than refused forever."""
        missing = min(cost, self.rate.burst) - self.tokens
        if missing <= 0:
            return 0.0
        return missing / self.rate.per_second if self.rate.per_second > 0 else math.inf

    def charge(self, cost: float) -> None:
        self.tokens -= min(cost, self.rate.burst)


class Limiter(Protocol):
    async def acquire(self, kind: str, keys: Iterable[str], cost: float = 1.0) -> float: ...


class RateLimiter:
    def __init__(
        self,
        rates: dict[str, Rate],
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = 50_000,
    ) -> None:
        self._rates = rates
        self._clock = clock
        self._max = max_buckets
        self._buckets: OrderedDict[tuple[str, str], TokenBucket] = OrderedDict()

    def _bucket(self, kind: str, key: str, now: float) -> TokenBucket:
        bucket = self._buckets.get((kind, key))
        if bucket is None:
            bucket = self._buckets[(kind, key)] = TokenBucket(self._rates[kind], now)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end((kind, key))
            bucket.refill(now)
        return bucket

    async def acquire(self, kind: str, keys: Iterable[str], cost: float = 1.0) -> float:
        """``take``, with the interface of the cluster's shared limiter."""
        return self.take(kind, keys, cost)

    def take(self, kind: str, keys: Iterable[str], cost: float = 1.0) -> float:
        """Charges ``cost`` of ``kind`` to each key's bucket; returns 0 if it went through, else
        the seconds to wait before it would (nothing charged)."""
        if kind not in self._rates:
            return 0.0
        now = self._clock()
        buckets = [self._bucket(kind, key, now) for key in keys]
        wait = max((bucket.wait(cost) for bucket in buckets), default=0.0)
        if wait > 0:
            return wait
        for bucket in buckets:
            bucket.charge(cost)
        return 0.0
