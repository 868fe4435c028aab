"""What a client saw completed is there after ``kill -9``: the whole task, and its history."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
from a2a.types import a2a_pb2 as pb

from clients.a2a import fetch_card, make_client, text_of, user_message
from store.database import open_database
from store.history import DatabaseHistory
from tests.serving import podium_process


def text_of_message(message: pb.Message) -> str:
    return "".join(part.text for part in message.parts)


async def test_completed_tasks_survive_kill_9(tmp_path: Path) -> None:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=100)) as http:
        with podium_process(tmp_path) as (url, process):
            client = make_client(http, await fetch_card(http, f"{url}/agents/mei"), streaming=False)
            sends = [client.send_message(user_message(f"Question {i}?")) for i in range(40)]
            seen = await asyncio.gather(*(anext(aiter(s)) for s in sends))
            process.send_signal(signal.SIGKILL)  # at once, after the last answer arrived
            process.wait(10)
        assert {r.task.status.state for r in seen} == {pb.TaskState.TASK_STATE_COMPLETED}
        database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'podium.sqlite3'}")
        for response in seen:  # what the brains will see next time: the question and answer
            history = await DatabaseHistory(database).load(response.task.context_id, 10)
            assert [(u.speaker, u.text) for u in history] == [
                ("user", text_of_message(response.task.history[0])),
                ("mei", text_of(response.task).strip()),
            ]
        await database.aclose()
        with podium_process(tmp_path) as (url, _):
            client = make_client(http, await fetch_card(http, f"{url}/agents/mei"), streaming=False)
            for response in seen:
                stored = await client.get_task(pb.GetTaskRequest(id=response.task.id))
                assert stored.status.state == pb.TaskState.TASK_STATE_COMPLETED
                assert text_of(stored) == text_of(response.task) != ""
