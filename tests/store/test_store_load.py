"""The store under ordinary concurrency, on loopback: debates, debater turns, A2A messages,
plain text streams and room creates and deletes all at once lose nothing, fail nothing, and
what was recorded (or deleted) is still so after a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from a2a.types import a2a_pb2 as pb

from clients.a2a import fetch_card, make_client, user_message
from server.settings import RoomSettings
from tests.postgres import Postgres
from tests.serving import serve_podium

# The shapes of the reproductions this guards against (300 parallel /stream; 100 SendMessage
# alongside 25 room creates; 5 debates and 5 debater turns running, then room creates; 10
# rooms deleted while their debates run), at the size that still overlaps every kind of
# write with every other: each failed at a fraction of its original size.
STREAMS = {"sqlite": 200, "postgresql": 80}
MESSAGES = {"sqlite": 100, "postgresql": 40}  # a non-streaming send on PostgreSQL follows
# its task through the SDK's polled event stream: the same overlap at fewer
ROOMS = 16
DELETED = 6  # the first rooms, created debating


async def final_status(http: httpx.AsyncClient, url: str, task_id: str) -> str:
    """The final `status` event of a plain text stream (it ends when the task does)."""
    status = ""
    async with http.stream("GET", f"{url}/stream/{task_id}") as response:
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "status":
                status = line[5:].strip()
    return status


async def stream(http: httpx.AsyncClient, url: str, body: dict[str, object]) -> tuple[int, str]:
    created = await http.post(f"{url}/stream", json=body)
    if created.status_code != 201:
        return created.status_code, created.text
    return 201, await final_status(http, url, created.json()["task_id"])


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each backend: SQLite in the data dir, or a fresh database on the test PostgreSQL."""
    if request.param == "sqlite":
        return ""
    postgres: Postgres = request.getfixturevalue("postgres")
    return postgres.create(f"load_{tmp_path.name[-12:].lower().replace('-', '_')}")


def backend(database_url: str) -> str:
    return "postgresql" if database_url else "sqlite"


async def test_concurrent_work_loses_no_write_and_survives_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    data = tmp_path / "data"
    with serve_podium(data, rooms=RoomSettings(max_rooms=100), database_url=database_url) as url:
        # No connection is reused. The server closes an idle one 5 s after it sent the last
        # response; the client (in this process, its loop starved by 400 connections) may
        # read that response seconds later and count it idle from then, so a 1 s expiry on
        # its side still sent requests on connections the server was closing ("Server
        # disconnected without sending a response"): a failure that is not the store's.
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            client = make_client(http, await fetch_card(http, f"{url}/agents/mei"), streaming=False)
            debates = [
                stream(http, url, {"text": f"Trams {i}", "rounds": 1, "speakers": ["mei", "shuai"]})
                for i in range(5)
            ]
            turns = [stream(http, url, {"agent": "shuai", "text": f"Why {i}?"}) for i in range(5)]
            streams = [
                stream(http, url, {"agent": "mei", "text": f"Q{i}"})
                for i in range(STREAMS[backend(database_url)])
            ]
            messages = [
                client.send_message(user_message(f"M{i}"))
                for i in range(MESSAGES[backend(database_url)])
            ]
            creates = [
                http.post(f"{url}/rooms", json={"topic": f"R{i}", "debate": i < DELETED})
                for i in range(ROOMS)
            ]
            results = await asyncio.gather(
                asyncio.gather(*debates, *turns, *streams),
                asyncio.gather(*(anext(aiter(m)) for m in messages), return_exceptions=True),
                asyncio.gather(*creates),
            )
            ended, sent, created = results
            assert [r for r in ended if r != (201, "completed")] == []
            assert [r for r in sent if isinstance(r, BaseException)] == []
            task_ids = [r.task.id for r in sent if not isinstance(r, BaseException)]
            assert len(task_ids) == MESSAGES[backend(database_url)]
            assert [r.status_code for r in created if r.status_code != 201] == []
            room_ids = [r.json()["id"] for r in created]
            listed = {r["id"] for r in (await http.get(f"{url}/rooms")).json()}
            assert set(room_ids) <= listed
            debating = [(await http.get(f"{url}/rooms/{r}")).json() for r in room_ids[:DELETED]]
            assert all(info["debate_task_id"] for info in debating), "deleted mid-debate"
            deletes = [http.delete(f"{url}/rooms/{r}") for r in room_ids[:DELETED]]
            assert {r.status_code for r in await asyncio.gather(*deletes)} == {204}

    with serve_podium(
        data, rooms=RoomSettings(max_rooms=100), database_url=database_url
    ) as url:  # a new process
        async with httpx.AsyncClient(timeout=30) as http:
            listed = {r["id"] for r in (await http.get(f"{url}/rooms")).json()}
            assert listed == set(room_ids[DELETED:]), "created rooms kept, deleted ones gone"
            client = make_client(http, await fetch_card(http, f"{url}/agents/mei"))
            for task_id in task_ids:
                task = await client.get_task(pb.GetTaskRequest(id=task_id))
                assert task.status.state == pb.TaskState.TASK_STATE_COMPLETED
                assert task.artifacts, "the whole task, not just its state"
