"""Rate limits and cross-site refusals at the door, on a real server over loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import websockets

from server.http.ratelimit import Rate, RateLimiter
from server.settings import ApiKey, AuthSettings, LimitSettings
from tests.serving import serve_podium

ALICE, BOB = "alice-key-0123456789abcdef", "bob-key-0123456789abcdef01"
KEYS = AuthSettings(api_keys=[ApiKey(name="alice", key=ALICE), ApiKey(name="bob", key=BOB)])
TIGHT = LimitSettings(
    tasks_per_second=0.01,
    tasks_burst=3,
    rooms_per_second=0.01,
    rooms_burst=1,
    joins_per_second=0.01,
    joins_burst=2,
    audio_bytes_per_second=1000,
    audio_burst_bytes=8000,
)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_buckets_refill_with_the_clock_and_refusals_cost_nothing() -> None:
    now = [0.0]
    limiter = RateLimiter({"tasks": Rate(2.0, 3.0)}, clock=lambda: now[0])
    assert [limiter.take("tasks", ["a", "b"]) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("tasks", ["a"]) == pytest.approx(0.5)
    assert limiter.take("tasks", ["c"]) == 0.0, "another key has its own bucket"
    now[0] = 0.5
    assert limiter.take("tasks", ["a"]) == 0.0
    # One key over its limit: nothing is charged to the other.
    now[0] = 10.0
    for _ in range(3):
        limiter.take("tasks", ["d"])
    assert limiter.take("tasks", ["d", "e"]) > 0
    assert [limiter.take("tasks", ["e"]) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("other kind", ["a"]) == 0.0


def test_a_bounded_number_of_buckets() -> None:
    limiter = RateLimiter({"tasks": Rate(0.0, 1.0)}, clock=lambda: 0.0, max_buckets=10)
    for key in range(100):
        assert limiter.take("tasks", [str(key)]) == 0.0
    assert limiter.take("tasks", ["99"]) > 0, "the newest are remembered"
    assert len(limiter._buckets) == 10


async def test_limits_per_principal(tmp_path: Path) -> None:
    with serve_podium(tmp_path / "data", auth=KEYS, limits=TIGHT) as url:
        async with httpx.AsyncClient(timeout=10) as http:
            answers = await asyncio.gather(
                *(
                    http.post(f"{url}/stream", json={"text": f"Q{i}"}, headers=bearer(ALICE))
                    for i in range(6)
                )
            )
            codes = sorted(a.status_code for a in answers)
            assert codes == [201, 201, 201, 429, 429, 429]
            refused = next(a for a in answers if a.status_code == 429)
            assert int(refused.headers["retry-after"]) >= 1
            assert "tasks" in refused.json()["error"]["message"]
            # The A2A routes draw on the same bucket; other calls do not.
            rpc = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "SendMessage",
                "params": {
                    "message": {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "x"}]}
                },
            }
            headers = {"A2A-Version": "1.0", **bearer(ALICE)}
            sent = await http.post(f"{url}/agents/mei", json=rpc, headers=headers)
            assert sent.status_code == 429
            rest = await http.post(
                f"{url}/agents/mei/message:send",
                json={"message": rpc["params"]["message"]},
                headers=headers,
            )
            assert rest.status_code == 429
            read = {**rpc, "method": "ListTasks", "params": {}}
            assert (
                await http.post(f"{url}/agents/mei", json=read, headers=headers)
            ).status_code == 200
            # Bob has buckets of his own.
            bobs = await http.post(f"{url}/stream", json={"text": "Mine"}, headers=bearer(BOB))
            assert bobs.status_code == 201

            first = await http.post(f"{url}/rooms", json={"topic": "a"}, headers=bearer(BOB))
            second = await http.post(f"{url}/rooms", json={"topic": "b"}, headers=bearer(BOB))
            assert (first.status_code, second.status_code) == (201, 429)
            room = first.json()["id"]
            ws = url.replace("http", "ws") + f"/rooms/{room}/audio?access_token={BOB}"
            async with websockets.connect(ws) as socket:
                await socket.recv()  # joined
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    for _ in range(20):  # 20 x 640 bytes at once: faster than speech
                        await socket.send(bytes(640))
                    async with asyncio.timeout(10):  # the room's own audio comes until the close
                        while True:
                            await socket.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
            async with websockets.connect(ws) as socket:  # the second join of the burst
                await socket.recv()
            async with websockets.connect(ws) as socket:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await socket.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429


async def test_loopback_without_authentication_is_not_limited(tmp_path: Path) -> None:
    with serve_podium(tmp_path / "data", limits=TIGHT) as url:
        async with httpx.AsyncClient(timeout=10) as http:
            answers = await asyncio.gather(
                *(http.post(f"{url}/stream", json={"text": f"Q{i}"}) for i in range(10))
            )
            assert {a.status_code for a in answers} == {201}


async def test_cross_site_requests_are_refused(tmp_path: Path) -> None:
    allowed = "http://app.example"
    with serve_podium(tmp_path / "data", cors_origins=[allowed]) as url:
        async with httpx.AsyncClient(timeout=10) as http:
            evil = {"Origin": "http://evil.example"}
            for method, path, body in [
                ("POST", "/rooms", {"topic": "x"}),
                ("POST", "/stream", {"text": "x"}),
                ("POST", "/", {"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}),
            ]:
                answer = await http.request(method, f"{url}{path}", json=body, headers=evil)
                assert answer.status_code == 403, path
                assert "allow-list" in answer.json()["error"]["message"]
            room = (await http.post(f"{url}/rooms", json={"topic": "t"})).json()["id"]
            assert (await http.delete(f"{url}/rooms/{room}", headers=evil)).status_code == 403
            # What a form on any page can send is not JSON, and changes nothing.
            for media in ("application/x-www-form-urlencoded", "multipart/form-data; b=x"):
                form = await http.post(
                    f"{url}/rooms", content=b"topic=x", headers={"content-type": media}
                )
                assert form.status_code == 415
            assert [r["id"] for r in (await http.get(f"{url}/rooms")).json()] == [room]
            # The allow-listed origin gets CORS answers, the page's own origin needs none.
            preflight = await http.options(
                f"{url}/rooms",
                headers={
                    "Origin": allowed,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization, content-type",
                },
            )
            assert preflight.headers["access-control-allow-origin"] == allowed
            cross = await http.post(
                f"{url}/rooms", json={"topic": "ok"}, headers={"Origin": allowed}
            )
            assert cross.status_code == 201
            assert cross.headers["access-control-allow-origin"] == allowed
            same = await http.post(f"{url}/rooms", json={"topic": "ok"}, headers={"Origin": url})
            assert same.status_code == 201
            refused = await http.options(
                f"{url}/rooms",
                headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
            )
            assert "access-control-allow-origin" not in refused.headers
        ws = url.replace("http", "ws") + f"/rooms/{room}/ws"
        async with websockets.connect(ws, origin="http://evil.example") as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
