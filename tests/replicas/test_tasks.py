"""Two replicas sharing one PostgreSQL are one A2A service: a turn running on A is seen,
followed, streamed as text and canceled through B."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from a2a.types import a2a_pb2 as pb

from agents.persona import BrainSpec
from clients.a2a import chunk_text, fetch_card, make_client, text_of, user_message
from tests.postgres import Postgres
from tests.serving import podium_process, serve_podium
from tests.sse import read_events


def text_of_message(message: pb.Message) -> str:
    return "".join(part.text for part in message.parts)


SLOW = BrainSpec(words_per_second=15)  # a paced demo brain: turns run long enough to watch


@contextmanager
def two_replicas(tmp_path: Path, database: str) -> Iterator[tuple[str, str]]:
    """Two replicas (A, B) on one database, each with its own data dir and port."""
    with (
        serve_podium(tmp_path / "a", database_url=database, brain=SLOW) as a,
        serve_podium(tmp_path / "b", database_url=database, brain=SLOW) as b,
    ):
        yield a, b


async def start_turn(http: httpx.AsyncClient, url: str) -> tuple[str, asyncio.Task[None]]:
    """Starts a streamed turn on ``url``'s Mei and returns its task id once text flows."""
    client = make_client(http, await fetch_card(http, f"{url}/agents/mei"))
    stream = client.send_message(user_message("Imagine a city without cars, in detail"))
    async for response in stream:
        if chunk_text(response):
            task_id = response.artifact_update.task_id

            async def drain() -> None:
                async for _ in stream:
                    pass

            return task_id, asyncio.create_task(drain())
    raise AssertionError("the turn produced no text")


async def test_a_turn_on_one_replica_is_seen_followed_and_streamed_on_another(
    tmp_path: Path, postgres: Postgres
) -> None:
    with two_replicas(tmp_path, postgres.create("replicas_follow")) as (a, b):
        async with httpx.AsyncClient(timeout=30) as http:
            task_id, running = await start_turn(http, a)
            on_b = make_client(http, await fetch_card(http, f"{b}/agents/mei"))
            seen = await on_b.get_task(pb.GetTaskRequest(id=task_id))
            assert seen.status.state == pb.TaskState.TASK_STATE_WORKING
            listed = await on_b.list_tasks(pb.ListTasksRequest(context_id=seen.context_id))
            assert [t.id for t in listed.tasks] == [task_id]

            async def subscribe() -> list[pb.StreamResponse]:
                request = pb.SubscribeToTaskRequest(id=task_id)
                return [r async for r in on_b.subscribe(request)]

            async def text_stream(headers: dict[str, str]) -> list[tuple[str, str | None, str]]:
                async with http.stream("GET", f"{b}/stream/{task_id}", headers=headers) as r:
                    return [(e.data, e.id, e.event) for e in await read_events(r)]

            followed, streamed, resumed = await asyncio.gather(
                subscribe(), text_stream({}), text_stream({"Last-Event-ID": "5"})
            )
            await running
            final = await on_b.get_task(pb.GetTaskRequest(id=task_id))
            assert final.status.state == pb.TaskState.TASK_STATE_COMPLETED
            whole = text_of(final)
            assert followed[-1].status_update.status.state == pb.TaskState.TASK_STATE_COMPLETED
            live = [chunk_text(r) for r in followed if chunk_text(r)]
            assert len(live) > 1 and whole.endswith("".join(live)), "the rest of the live stream"
            assert streamed[-1] == ("completed", None, "status")
            assert "".join(d for d, _, kind in streamed if kind == "message") == whole
            assert len([e for e in streamed if e[2] == "message"]) > 1, "live, chunk by chunk"
            assert "".join(d for d, _, kind in resumed if kind == "message") == whole[5:]


async def test_a_cancel_on_one_replica_stops_the_turn_running_on_another(
    tmp_path: Path, postgres: Postgres
) -> None:
    with two_replicas(tmp_path, postgres.create("replicas_cancel")) as (a, b):
        async with httpx.AsyncClient(timeout=30) as http:
            task_id, running = await start_turn(http, a)
            on_b = make_client(http, await fetch_card(http, f"{b}/agents/mei"))
            canceled = await on_b.cancel_task(pb.CancelTaskRequest(id=task_id))
            assert canceled.status.state == pb.TaskState.TASK_STATE_CANCELED
            await asyncio.wait_for(running, 10)  # A's stream ends: the turn stopped there
            on_a = make_client(http, await fetch_card(http, f"{a}/agents/mei"))
            stored = await on_a.get_task(pb.GetTaskRequest(id=task_id))
            assert stored.status.state == pb.TaskState.TASK_STATE_CANCELED
            words = text_of(stored).split()
            assert 0 < len(words) < 40, "generation stopped partway"


async def test_a_turn_left_running_by_a_killed_replica_ends_failed_on_another(
    tmp_path: Path, postgres: Postgres
) -> None:
    """``kill -9`` mid-turn: within the lease, another replica ends the task ``failed`` with
    the reason, and a client following it there sees it end."""
    env = {
        "PODIUM_DATABASE_URL": postgres.create("replicas_abandoned"),
        "PODIUM_REPLICAS__TASK_LEASE": "2",
        "PODIUM_REPLICAS__ROOM_LEASE": "2",
        "PODIUM_BRAIN__WORDS_PER_SECOND": "4",  # the turn outlives the replica
    }
    with (
        podium_process(tmp_path / "a", **env) as (a, process_a),
        podium_process(tmp_path / "b", **env) as (b, _),
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            task_id, running = await start_turn(http, a)
            on_b = make_client(http, await fetch_card(http, f"{b}/agents/mei"))

            async def follow() -> list[pb.StreamResponse]:
                request = pb.SubscribeToTaskRequest(id=task_id)
                return [r async for r in on_b.subscribe(request)]

            following = asyncio.create_task(follow())
            first = await on_b.get_task(pb.GetTaskRequest(id=task_id))
            assert first.status.state == pb.TaskState.TASK_STATE_WORKING
            process_a.send_signal(signal.SIGKILL)
            process_a.wait(10)
            killed = time.monotonic()
            followed = await asyncio.wait_for(following, 20)
            took = time.monotonic() - killed
            with contextlib.suppress(Exception):  # its stream was cut with its replica
                await running
            last = followed[-1].status_update.status
            assert last.state == pb.TaskState.TASK_STATE_FAILED
            assert "replica running this task stopped" in text_of_message(last.message)
            assert took < 2 + 5, f"ended {took:.1f} s after the kill"
            final = await on_b.get_task(pb.GetTaskRequest(id=task_id))
            assert final.status.state == pb.TaskState.TASK_STATE_FAILED
            assert text_of(final), "the words said before the kill are kept"
