"""A database that goes away while serving: clear 503s (or A2A errors) with a reason, other
clients served, and everything works again once it is back; nothing acknowledged is lost."""

from __future__ import annotations

from pathlib import Path

import httpx
from a2a.types import a2a_pb2 as pb

from clients.a2a import fetch_card, make_client, text_of, user_message
from tests.postgres import Postgres
from tests.serving import serve_podium


async def test_postgres_stopped_and_started_while_serving(
    tmp_path: Path, postgres: Postgres
) -> None:
    url_db = postgres.create("outage")
    with serve_podium(tmp_path, database_url=url_db) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            client = make_client(http, await fetch_card(http, f"{url}/agents/mei"), streaming=False)
            [done] = [r async for r in client.send_message(user_message("Before"))]
            standing = (await http.post(f"{url}/rooms", json={"topic": "Standing"})).json()["id"]
            postgres.stop()
            try:
                kept_room = await http.delete(f"{url}/rooms/{standing}")
                assert kept_room.status_code == 503  # not deleted: it stays, and keeps working
                assert (await http.get(f"{url}/rooms/{standing}")).status_code == 200
                refused = await http.post(f"{url}/rooms", json={"topic": "During"})
                assert refused.status_code == 503
                assert "database" in refused.json()["error"]["message"]
                assert (await http.get(f"{url}/healthz")).status_code == 503
                assert (await http.get(f"{url}/agents")).status_code == 200  # no database needed
                lookup = await http.post(
                    f"{url}/agents/mei",
                    json={
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "GetTask",
                        "params": {"id": done.task.id},
                    },
                    headers={"A2A-Version": "1.0"},
                )
                assert "task store is unavailable" in lookup.json()["error"]["message"]
                streamed = await http.post(f"{url}/stream", json={"agent": "mei", "text": "During"})
                assert streamed.status_code == 503, streamed.text
            finally:
                postgres.start()
            created = await http.post(f"{url}/rooms", json={"topic": "After"})
            assert created.status_code == 201
            topics = sorted(r["topic"] for r in (await http.get(f"{url}/rooms")).json())
            assert topics == ["After", "Standing"], "nothing half made while it was away"
            assert (await http.get(f"{url}/healthz")).status_code == 200
            kept = await client.get_task(pb.GetTaskRequest(id=done.task.id))
            assert text_of(kept) == text_of(done.task)
            [again] = [r async for r in client.send_message(user_message("After"))]
            assert again.task.status.state == pb.TaskState.TASK_STATE_COMPLETED
