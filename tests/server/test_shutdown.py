"""SIGTERM under load: the server stops within seconds, every open stream gets its final
event first, and the turns it stopped end ``failed`` with the reason, not at the next start."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import httpx
from a2a.types import a2a_pb2 as pb

from clients.a2a import fetch_card, make_client
from tests.serving import podium_process


class Follower:
    """Reads one SSE stream to its end; ``live`` is set at its first data line."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.live = asyncio.Event()
        self.events: list[tuple[str, str]] = []
        self.task = asyncio.create_task(self._read(http, url))

    async def _read(self, http: httpx.AsyncClient, url: str) -> None:
        kind = "message"
        async with http.stream("GET", url) as response:
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    self.events.append((kind, line[5:].strip()))
                    self.live.set()
                    kind = "message"


async def test_sigterm_under_load_ends_every_stream_with_a_final_event(tmp_path: Path) -> None:
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        with podium_process(tmp_path, PODIUM_BRAIN__WORDS_PER_SECOND="4") as (url, process):
            bodies = [{"text": f"Trams {i}?", "rounds": 2} for i in range(3)]
            bodies += [{"agent": "mei", "text": f"Why {i}?"} for i in range(20)]
            created = [await http.post(f"{url}/stream", json=body) for body in bodies]
            task_ids = [r.json()["task_id"] for r in created]
            room = (await http.post(f"{url}/rooms", json={"topic": "T", "debate": True})).json()
            streams = [Follower(http, f"{url}/stream/{t}") for t in task_ids]
            rooms = [Follower(http, f"{url}/rooms/{room['id']}/events") for _ in range(5)]
            for follower in streams + rooms:  # every one is live before the signal
                await asyncio.wait_for(follower.live.wait(), 20)
            asked = time.monotonic()
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(asyncio.to_thread(process.wait), 10)
            took = time.monotonic() - asked
            await asyncio.wait_for(asyncio.gather(*(f.task for f in streams + rooms)), 10)
        assert took < 5, f"stopped after {took:.1f} s"
        assert {f.events[-1] for f in streams} == {("status", "failed")}
        assert {json.loads(f.events[-1][1])["type"] for f in rooms} == {"room_closed"}
        with podium_process(tmp_path) as (url, _):  # the next start finds them ended, and why
            client = make_client(http, await fetch_card(http, f"{url}/agents/mei"))
            task = await client.get_task(pb.GetTaskRequest(id=task_ids[-1]))
            assert task.status.state == pb.TaskState.TASK_STATE_FAILED
            assert "shutting down" in "".join(p.text for p in task.status.message.parts)
