"""Two replicas on one PostgreSQL enforce one rate limit: a principal who alternates between
them gets the burst once, not once per replica; refusals say when to retry."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from server.settings import AuthSettings, LimitSettings, RoomSettings
from tests.postgres import Postgres
from tests.serving import serve_podium

KEY = "shared-limit-key-0123456789"


async def bucket(url: str) -> tuple[float, float]:
    """The shared bucket of the principal's room creations: (tokens, updated)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            query = sa.text(
                "SELECT tokens, updated FROM rate_buckets "
                "WHERE kind = 'rooms' AND key = 'principal:ann'"
            )
            tokens, updated = (await connection.execute(query)).one()
            return float(tokens), float(updated)
    finally:
        await engine.dispose()


BURST = 10


async def test_two_replicas_enforce_one_shared_limit(tmp_path: Path, postgres: Postgres) -> None:
    database = postgres.create("shared_limits")
    settings = {
        "database_url": database,
        "auth": AuthSettings(api_keys=[{"name": "ann", "key": KEY}]),
        "limits": LimitSettings(rooms_per_second=0.001, rooms_burst=BURST),
        "rooms": RoomSettings(max_rooms=50),
    }
    with (
        serve_podium(tmp_path / "a", **settings) as a,
        serve_podium(tmp_path / "b", **settings) as b,
    ):
        headers = {"authorization": f"Bearer {KEY}"}
        async with httpx.AsyncClient(timeout=20, headers=headers) as http:
            answers = [
                await http.post(f"{(a, b)[i % 2]}/rooms", json={"topic": f"R{i}"})
                for i in range(2 * BURST + 4)
            ]
            codes = [r.status_code for r in answers]
            assert codes.count(201) == BURST, codes  # one burst for the cluster, not two
            assert set(codes) == {201, 429}
            refused = next(r for r in answers if r.status_code == 429)
            assert int(refused.headers["retry-after"]) >= 1
            assert "too many rooms requests" in refused.json()["error"]["message"]
            # A refusal costs nothing: the shared bucket is as it was before it.
            before = await bucket(database)
            again = await http.post(f"{b}/rooms", json={"topic": "late"})
            assert again.status_code == 429
            assert await bucket(database) == before
            assert before[0] < 1, "the cluster spent its burst"
