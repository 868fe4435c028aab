"""Token buckets in the shared database: what replicas withdraw their local allowances from,
so a cluster enforces one limit. A withdrawal that cannot be met changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from store.tables import rate_buckets


@dataclass(frozen=True)
class Withdrawal:
    granted: float  # tokens now this replica's to spend (0: refused)
    wait: float  # refused: seconds until ``need`` would be there


async def withdraw(
    engine: AsyncEngine,
    kind: str,
    key: str,
    rate: float,
    burst: float,
    need: float,
    want: float,
    now: float,
) -> Withdrawal:
    """At least ``need`` tokens (at most ``want``) from the bucket ``(kind, key)``, refilled
    at ``rate`` up to ``burst`` since it was last touched; row-locked while it is decided."""
    bucket = (rate_buckets.c.kind == kind) & (rate_buckets.c.key == key)
    read = sa.select(rate_buckets.c.tokens, rate_buckets.c.updated).where(bucket)
    async with engine.begin() as connection:
        fresh = insert(rate_buckets).values(kind=kind, key=key, tokens=burst, updated=now)
        await connection.execute(fresh.on_conflict_do_nothing())
        tokens, updated = (await connection.execute(read.with_for_update())).one()
        available = min(burst, tokens + max(0.0, now - updated) * rate)
        if available < need:
            wait = (need - available) / rate if rate > 0 else float("inf")
            return Withdrawal(0.0, wait)
        granted = min(max(need, want), available)
        left = sa.update(rate_buckets).where(bucket)
        await connection.execute(left.values(tokens=available - granted, updated=max(now, updated)))
    return Withdrawal(granted, 0.0)
