"""A request that claims another replica forwarded it must prove it: on a replica pair over a
real PostgreSQL, a forged, a stale and a replayed proof are refused (403) while proven
forwarding keeps working; the proof itself with an injected clock."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from server.replicas.forward_proof import FORWARDED, ForwardProof
from tests.postgres import Postgres
from tests.serving import serve_podium


def test_a_proof_holds_once_for_its_own_request_and_time() -> None:
    now = [1_000_000.0]
    proof = ForwardProof(b"k" * 32, clock=lambda: now[0])
    header = proof.sign("POST", "/rooms/r1/say?x=1", b'{"text": "hi"}')
    assert proof.refusal(header, "POST", "/rooms/r1/say?x=1", b'{"text": "hi"}') is None
    assert proof.refusal(header, "POST", "/rooms/r1/say?x=1", b'{"text": "hi"}') == (
        "replayed forwarding proof"
    )
    fresh = proof.sign("POST", "/rooms/r1/say", b"{}")
    assert proof.refusal(fresh, "POST", "/rooms/r1/say", b'{"text": "other"}') == (
        "forged forwarding proof"
    )
    assert proof.refusal(fresh, "DELETE", "/rooms/r1/say", b"{}") == "forged forwarding proof"
    assert ForwardProof(b"x" * 32).refusal(fresh, "POST", "/rooms/r1/say", b"{}") is not None
    old = proof.sign("GET", "/rooms")
    now[0] += 31
    assert proof.refusal(old, "GET", "/rooms") == "stale forwarding proof"
    assert proof.refusal("1", "GET", "/rooms") == "malformed forwarding proof"
    assert ForwardProof(None).refusal(old, "GET", "/rooms") == (
        "this server takes no forwarded requests"
    )


async def shared_key(url: str) -> bytes:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            query = sa.text("SELECT value FROM shared_secrets WHERE name = 'forwarding'")
            return bytes.fromhex((await connection.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def test_forged_stale_and_replayed_forwarding_is_refused_on_a_replica_pair(
    tmp_path: Path, postgres: Postgres
) -> None:
    database = postgres.create("forward_proof")
    with (
        serve_podium(tmp_path / "a", database_url=database) as a,
        serve_podium(tmp_path / "b", database_url=database) as b,
    ):
        async with httpx.AsyncClient(timeout=20) as http:
            room_id = (await http.post(f"{a}/rooms", json={"topic": "Trams"})).json()["id"]
            # Proven forwarding works: B passes A's room on, and lists A's rooms.
            assert (await http.get(f"{b}/rooms/{room_id}")).json()["id"] == room_id
            assert room_id in {r["id"] for r in (await http.get(f"{b}/rooms")).json()}

            for claim in ["1", f"v1.{int(time.time())}.abcdef.{'0' * 64}"]:
                forged = await http.get(f"{a}/rooms", headers={FORWARDED: claim})
                assert forged.status_code == 403, forged.text
                assert "forwarding proof" in forged.json()["error"]["message"]

            proof = ForwardProof(await shared_key(database))
            header = proof.sign("GET", "/rooms?local=true")
            first = await http.get(f"{a}/rooms?local=true", headers={FORWARDED: header})
            assert first.status_code == 200 and room_id in {r["id"] for r in first.json()}
            again = await http.get(f"{a}/rooms?local=true", headers={FORWARDED: header})
            assert again.status_code == 403
            assert again.json()["error"]["message"] == "replayed forwarding proof"

            stale = ForwardProof(proof.key, clock=lambda: time.time() - 120)
            header = stale.sign("GET", "/rooms?local=true")
            old = await http.get(f"{a}/rooms?local=true", headers={FORWARDED: header})
            assert old.status_code == 403
            assert old.json()["error"]["message"] == "stale forwarding proof"

            body = b'{"text": "Mei, why?"}'
            header = proof.sign("POST", f"/rooms/{room_id}/say", body)
            swapped = await http.post(
                f"{a}/rooms/{room_id}/say",
                content=b'{"text": "something else"}',
                headers={FORWARDED: header, "content-type": "application/json"},
            )
            assert swapped.status_code == 403
            assert swapped.json()["error"]["message"] == "forged forwarding proof"


async def test_a_server_without_replicas_takes_no_forwarded_request(tmp_path: Path) -> None:
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            claimed = await http.get(f"{url}/rooms", headers={FORWARDED: "1"})
            assert claimed.status_code == 403
            assert "takes no forwarded requests" in claimed.json()["error"]["message"]
