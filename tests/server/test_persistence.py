"""A restart keeps finished tasks, and tasks a dead process left running end failed."""

from __future__ import annotations

from pathlib import Path

import httpx
from a2a.server.tasks import DatabaseTaskStore
from a2a.types import a2a_pb2 as pb
from sqlalchemy.ext.asyncio import create_async_engine

from agents.service import call_context
from agents.transcript import Transcript
from clients.a2a import fetch_card, make_client, text_of, user_message
from server.runtime import agent_scope
from store.database import open_database
from store.history import DatabaseHistory
from tests.serving import serve_podium


async def test_restart_keeps_finished_and_fails_orphans(tmp_path: Path) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        with serve_podium(tmp_path) as url:
            client = make_client(http, await fetch_card(http, f"{url}/agents/mei"), streaming=False)
            [done] = [r async for r in client.send_message(user_message("Hello"))]
        # A task left "working", as a process killed mid-turn leaves it.
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'podium.sqlite3'}")
        store = DatabaseTaskStore(engine, owner_resolver=agent_scope("mei"))
        orphan = pb.Task(
            id="orphan-1",
            context_id=done.task.context_id,
            status=pb.TaskStatus(state=pb.TaskState.TASK_STATE_WORKING),
        )
        await store.save(orphan, call_context())
        await engine.dispose()
        with serve_podium(tmp_path) as url:
            client = make_client(http, await fetch_card(http, f"{url}/agents/mei"), streaming=False)
            kept = await client.get_task(pb.GetTaskRequest(id=done.task.id))
            assert kept.status.state == pb.TaskState.TASK_STATE_COMPLETED
            assert text_of(kept) == text_of(done.task)
            failed = await client.get_task(pb.GetTaskRequest(id="orphan-1"))
            assert failed.status.state == pb.TaskState.TASK_STATE_FAILED
            assert "server stopped" in failed.status.message.parts[0].text
            # The conversation's history survived too: what the brains see next time.
            database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'podium.sqlite3'}")
            history = await Transcript(DatabaseHistory(database)).history(done.task.context_id)
            await database.aclose()
            assert [(u.speaker, u.text) for u in history] == [
                ("user", "Hello"),
                ("mei", text_of(done.task).strip()),
            ]
            follow = user_message("And then?", context_id=done.task.context_id)
            [again] = [r async for r in client.send_message(follow)]
            assert again.task.context_id == done.task.context_id


async def test_rooms_reopen_after_a_restart_and_deleted_ones_do_not(tmp_path: Path) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        with serve_podium(tmp_path) as url:
            kept = await http.post(f"{url}/rooms", json={"topic": "Kept", "agents": ["mei"]})
            gone = (await http.post(f"{url}/rooms", json={"topic": "Gone"})).json()
            assert (await http.delete(f"{url}/rooms/{gone['id']}")).status_code == 204
        with serve_podium(tmp_path) as url:
            rooms = (await http.get(f"{url}/rooms")).json()
            assert [(r["id"], r["topic"], r["agents"]) for r in rooms] == [
                (kept.json()["id"], "Kept", ["mei"])
            ]
            said = await http.post(f"{url}/rooms/{kept.json()['id']}/say", json={"text": "Hi"})
            assert said.json()["agent"] == "mei"
