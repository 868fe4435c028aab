"""The plain text SSE lifecycle at /stream, with httpx on a real socket."""

from __future__ import annotations

from pathlib import Path

import httpx
from a2a.types import a2a_pb2 as pb

from agents.persona import BrainSpec
from clients.a2a import fetch_card, make_client, text_of
from tests.serving import serve_podium
from tests.sse import read_events


async def test_spawn_stream_reconnect_and_replay(tmp_path: Path) -> None:
    # Paced like a real model, so the reader joins while the turn is still being written.
    with serve_podium(tmp_path, brain=BrainSpec(words_per_second=40)) as podium:
        await _spawn_stream_reconnect_and_replay(podium)


async def _spawn_stream_reconnect_and_replay(podium: str) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        created = await http.post(f"{podium}/stream", json={"agent": "shuai", "text": "Costs?"})
        assert created.status_code == 201
        task_id = created.json()["task_id"]
        async with http.stream("GET", f"{podium}/stream/{task_id}") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = await read_events(response)
        chunks = [e for e in events if e.event == "message"]
        assert len(chunks) > 5 and events[-1].event == "status" and events[-1].data == "completed"
        whole = "".join(e.data for e in chunks)
        # The same task, seen by an A2A client.
        client = make_client(http, await fetch_card(http, f"{podium}/agents/shuai"))
        task = await client.get_task(pb.GetTaskRequest(id=task_id))
        assert text_of(task) == whole
        # Reconnect after the third chunk: only the rest arrives.
        resume_at = chunks[2].id
        assert resume_at is not None
        async with http.stream(
            "GET", f"{podium}/stream/{task_id}", headers={"Last-Event-ID": resume_at}
        ) as response:
            rest = await read_events(response)
        assert "".join(e.data for e in rest if e.event == "message") == whole[int(resume_at) :]


async def test_after_restart_the_whole_text_is_replayed(tmp_path: Path) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        with serve_podium(tmp_path) as url:
            created = await http.post(f"{url}/stream", json={"agent": "mei", "text": "Hi"})
            task_id = created.json()["task_id"]
            async with http.stream("GET", f"{url}/stream/{task_id}") as response:
                live = await read_events(response)
        with serve_podium(tmp_path) as url:
            async with http.stream("GET", f"{url}/stream/{task_id}") as response:
                replay = await read_events(response)
    text = "".join(e.data for e in live if e.event == "message")
    assert [e.data for e in replay] == [text, "completed"]


async def test_debate_and_cancel(tmp_path: Path) -> None:
    with serve_podium(tmp_path, brain=BrainSpec(words_per_second=15)) as url:
        async with httpx.AsyncClient(timeout=10) as http:
            # Only JSON starts anything: a body a cross-site form could send is refused.
            for media in ("text/plain", "application/x-www-form-urlencoded"):
                refused = await http.post(
                    f"{url}/stream",
                    content=b"Should homework be banned?",
                    headers={"content-type": media},
                )
                assert refused.status_code == 415, media
                assert "application/json" in refused.json()["error"]["message"]
            created = await http.post(f"{url}/stream", json={"text": "Should homework be banned?"})
            assert created.status_code == 201 and created.json()["agent"] == "moderator"
            task_id = created.json()["task_id"]
            async with http.stream("GET", f"{url}/stream/{task_id}") as response:
                first = await read_events(response, limit=4)
            assert first[0].data.startswith("Mei: ")
            canceled = await http.post(f"{url}/stream/{task_id}/cancel")
            assert canceled.json()["state"] == "canceled"
            async with http.stream("GET", f"{url}/stream/{task_id}") as response:
                events = await read_events(response)
            assert events[-1].event == "status" and events[-1].data == "canceled"
            again = await http.post(f"{url}/stream/{task_id}/cancel")
            assert again.status_code == 409


async def test_bad_requests(podium: str) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        unknown_agent = await http.post(f"{podium}/stream", json={"agent": "zed", "text": "x"})
        assert (
            unknown_agent.status_code == 404 and "zed" in unknown_agent.json()["error"]["message"]
        )
        empty = await http.post(f"{podium}/stream", json={"agent": "mei", "text": ""})
        assert empty.status_code == 400
        garbage = await http.post(
            f"{podium}/stream", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert garbage.status_code == 400
        assert (await http.get(f"{podium}/stream/nope")).status_code == 404
        assert (await http.post(f"{podium}/stream/nope/cancel")).status_code == 404
