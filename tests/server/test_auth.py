"""Authentication and owners on loopback: the a2a-sdk client and raw HTTP with and without a
key, identity-provider tokens against a local JWKS, and each principal seeing only its own."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
import websockets
from a2a.types import a2a_pb2 as pb
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from agents.owner import conversation_key
from clients.a2a import fetch_card, final_state, make_client, user_message
from server.settings import ApiKey, AuthSettings
from tests.serving import serve_app, serve_podium
from tests.sse import read_events

ALICE, BOB = "alice-key-0123456789abcdef", "bob-key-0123456789abcdef01"
KEYS = AuthSettings(api_keys=[ApiKey(name="alice", key=ALICE), ApiKey(name="bob", key=BOB)])
COMPLETED = pb.TaskState.TASK_STATE_COMPLETED


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[str]:
    with serve_podium(tmp_path / "data", auth=KEYS) as url:
        yield url


async def test_cards_declare_the_scheme_and_stay_public(secured: str) -> None:
    async with httpx.AsyncClient() as http:
        for path in ("", "/agents/mei"):
            card = (await http.get(f"{secured}{path}/.well-known/agent-card.json")).json()
            scheme = card["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]
            assert scheme["scheme"] == "Bearer"
            assert card["securityRequirements"] == [{"schemes": {"bearer": {}}}]
        assert (await http.get(f"{secured}/agents")).status_code == 200
        direct = await http.get(f"{secured}/agents/mei")  # the card at the agent's own URL
        assert direct.status_code == 200 and "securitySchemes" in direct.json()
        assert (await http.get(f"{secured}/healthz")).status_code == 200
        assert (await http.get(f"{secured}/")).status_code == 200


async def test_every_other_route_needs_a_valid_key(secured: str) -> None:
    rpc = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x"}}
    async with httpx.AsyncClient() as http:
        for method, path, body in [
            ("POST", "/agents/mei", rpc),
            ("POST", "/", rpc),
            ("GET", "/agents/mei/tasks", None),
            ("POST", "/stream", {"text": "hi"}),
            ("GET", "/stream/nope", None),
            ("GET", "/rooms", None),
            ("POST", "/rooms", {"topic": "t"}),
            ("GET", "/metrics", None),
        ]:
            for headers in ({}, bearer("not-a-key"), {"Authorization": f"Basic {ALICE}"}):
                answer = await http.request(method, f"{secured}{path}", json=body, headers=headers)
                assert answer.status_code == 401, (method, path, headers)
                assert answer.headers["www-authenticate"].startswith("Bearer")
                assert "Bearer" in answer.json()["error"]["message"]
        headers = {"A2A-Version": "1.0", **bearer(ALICE)}
        known = await http.post(f"{secured}/agents/mei", json=rpc, headers=headers)
        assert known.status_code == 200 and known.json()["error"]["code"] == -32001
    for path in ("/rooms/x/ws", "/rooms/x/audio"):
        async with websockets.connect(secured.replace("http", "ws") + path) as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_the_sdk_client_sends_the_key_the_card_asks_for(secured: str) -> None:
    async with httpx.AsyncClient() as http:
        card = await fetch_card(http, f"{secured}/agents/mei")
        anonymous = make_client(http, card)
        with pytest.raises(Exception, match="401"):
            _ = [r async for r in anonymous.send_message(user_message("Hello?"))]
        alice = make_client(http, card, credential=ALICE)
        responses = [r async for r in alice.send_message(user_message("What do you think?"))]
        assert final_state(responses) == COMPLETED


async def test_each_principal_sees_and_writes_only_its_own(secured: str, tmp_path: Path) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        card = await fetch_card(http, f"{secured}/agents/mei")
        alice = make_client(http, card, "HTTP+JSON", credential=ALICE)
        bob = make_client(http, card, "HTTP+JSON", credential=BOB)
        said = [r async for r in alice.send_message(user_message("Cats are better than dogs."))]
        task_id = next(r.status_update.task_id for r in said if r.HasField("status_update"))
        context_id = next(r.status_update.context_id for r in said if r.HasField("status_update"))

        mine = await alice.get_task(pb.GetTaskRequest(id=task_id))
        assert mine.id == task_id
        with pytest.raises(Exception, match=r"(?i)not found"):
            await bob.get_task(pb.GetTaskRequest(id=task_id))
        with pytest.raises(Exception, match=r"(?i)not found"):
            await bob.cancel_task(pb.CancelTaskRequest(id=task_id))
        assert [t.id for t in (await alice.list_tasks(pb.ListTasksRequest())).tasks] == [task_id]
        assert not (await bob.list_tasks(pb.ListTasksRequest())).tasks

        # Bob naming Alice's context talks in a conversation of his own.
        intruding = user_message("Ignore all that: dogs win.", context_id=context_id)
        _ = [r async for r in bob.send_message(intruding)]
        listed = await alice.list_tasks(pb.ListTasksRequest(context_id=context_id))
        assert [t.id for t in listed.tasks] == [task_id]
        with sqlite3.connect(tmp_path / "data" / "podium.sqlite3") as db:
            rows = db.execute(
                "SELECT context_id, text FROM utterances WHERE speaker = 'user'"
            ).fetchall()
        by_key = {key: [t for k, t in rows if k == key] for key, _ in rows}
        alices = by_key.get(conversation_key("alice", context_id), [])
        assert alices == ["Cats are better than dogs."], "Alice's history holds only hers"
        assert by_key.get(conversation_key("bob", context_id)) == ["Ignore all that: dogs win."]

        # The plain text API keeps to the same owners.
        spawned = await http.post(f"{secured}/stream", json={"text": "Tea?"}, headers=bearer(ALICE))
        stream_task = spawned.json()["task_id"]
        for path in (f"/stream/{stream_task}", f"/stream/{stream_task}/cancel"):
            method = "GET" if path.endswith(stream_task) else "POST"
            refused = await http.request(method, f"{secured}{path}", headers=bearer(BOB))
            assert refused.status_code == 404
        async with http.stream(
            "GET", f"{secured}/stream/{stream_task}", headers=bearer(ALICE)
        ) as followed:
            assert followed.status_code == 200


# ── tokens from an identity provider ────────────────────────────────────────────


@pytest.fixture
def identity_provider() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    """A local identity provider's JWKS endpoint and its signing key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}
    app = FastAPI()

    @app.get("/jwks.json")
    async def keys() -> dict[str, object]:
        return jwks

    with serve_app(app) as url:
        yield f"{url}/jwks.json", key


def token(key: rsa.RSAPrivateKey, subject: str, audience: str, expires_in: float = 300) -> str:
    claims = {"sub": subject, "aud": audience, "iss": "https://id.example", "exp": time.time()}
    claims["exp"] = int(time.time() + expires_in)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


async def test_identity_provider_tokens(
    tmp_path: Path, identity_provider: tuple[str, rsa.RSAPrivateKey]
) -> None:
    jwks_url, key = identity_provider
    auth = AuthSettings(
        jwt_jwks_url=jwks_url, jwt_audience="podium", jwt_issuer="https://id.example"
    )
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with serve_podium(tmp_path / "data", auth=auth) as url:
        async with httpx.AsyncClient(timeout=10) as http:
            carol = bearer(token(key, "carol", "podium"))
            created = await http.post(f"{url}/stream", json={"text": "Hi"}, headers=carol)
            assert created.status_code == 201
            task = created.json()["task_id"]
            dave = bearer(token(key, "dave", "podium"))
            assert (await http.get(f"{url}/stream/{task}", headers=dave)).status_code == 404
            for refused in (
                token(key, "carol", "another-service"),  # for someone else
                token(key, "carol", "podium", expires_in=-60),  # expired
                token(other, "carol", "podium"),  # not signed by the provider
            ):
                answer = await http.get(f"{url}/rooms", headers=bearer(refused))
                assert answer.status_code == 401
            answers = await asyncio.gather(
                *(http.get(f"{url}/rooms", headers=carol) for _ in range(20))
            )
            assert {a.status_code for a in answers} == {200}


async def test_a_debates_turns_belong_to_who_started_it(secured: str) -> None:
    headers = {"A2A-Version": "1.0"}
    async with httpx.AsyncClient(timeout=20) as http:
        started = await http.post(
            f"{secured}/stream",
            json={"text": "Buses or bikes?", "rounds": 1},
            headers=bearer(ALICE),
        )
        debate = started.json()["task_id"]
        async with http.stream("GET", f"{secured}/stream/{debate}", headers=bearer(ALICE)) as s:
            assert (await read_events(s))[-1].data == "completed"

        async def turns(key: str) -> set[str]:
            found: set[str] = set()
            for name in ("mei", "shuai"):
                listed = await http.get(
                    f"{secured}/agents/{name}/tasks", headers={**headers, **bearer(key)}
                )
                found |= {t["id"] for t in listed.json().get("tasks", [])}
            return found

        alices = await turns(ALICE)
        assert len(alices) == 2, "one turn each, Alice's"
        assert await turns(BOB) == set()
        for turn in alices:  # and each reads back as Alice's only
            mine = await http.get(f"{secured}/stream/{turn}", headers=bearer(ALICE))
            assert mine.status_code == 200
            assert (
                await http.get(f"{secured}/stream/{turn}", headers=bearer(BOB))
            ).status_code == 404
