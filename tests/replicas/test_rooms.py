"""Rooms across replicas sharing one PostgreSQL: any replica answers every room route by
passing it to the replica that holds the room (HTTP, server-sent events, WebSocket, WebRTC
offers), and a replica killed with ``kill -9`` loses no completed task and has its rooms
taken over within seconds."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import httpx
import websockets
from a2a.types import a2a_pb2 as pb

from clients.a2a import fetch_card, make_client, text_of, user_message
from clients.rtc import EventLog, join
from tests.postgres import Postgres
from tests.serving import podium_process

LEASE = "2"  # seconds: takeover comes quickly in the test


async def test_rooms_are_served_by_every_replica_and_taken_over_after_kill_9(
    tmp_path: Path, postgres: Postgres
) -> None:
    env = {
        "PODIUM_DATABASE_URL": postgres.create("replica_rooms"),
        "PODIUM_REPLICAS__ROOM_LEASE": LEASE,
    }
    with (
        podium_process(tmp_path / "a", **env) as (a, process_a),
        podium_process(tmp_path / "b", **env) as (b, _),
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            created = await http.post(f"{a}/rooms", json={"topic": "Trams", "agents": ["mei"]})
            room_id = created.json()["id"]
            listed = {r["id"]: r for r in (await http.get(f"{b}/rooms")).json()}
            assert listed[room_id]["replica"] == a and listed[room_id]["topic"] == "Trams"
            seen = (await http.get(f"{b}/rooms/{room_id}")).json()
            assert seen["id"] == room_id and seen["agents"] == ["mei"]

            log = EventLog(http, b, room_id)  # server-sent events through B
            await log.wait_for("subscribed")
            ws_url = f"ws{b.removeprefix('http')}/rooms/{room_id}/ws"
            async with websockets.connect(ws_url) as socket:  # a WebSocket through B
                first = json.loads(await asyncio.wait_for(socket.recv(), 10))
                assert first["type"] == "subscribed" and first["room"] == room_id
                listener = await join(http, b, room_id, "listener")  # an SDP offer through B
                said = await http.post(f"{b}/rooms/{room_id}/say", json={"text": "Mei, why?"})
                assert said.status_code == 202 and said.json()["agent"] == "mei"
                await log.wait_for("turn_started")
                await listener.wait_loud(10)  # A's voice, heard by a peer that joined via B
                kinds = set()
                while "turn_started" not in kinds:
                    kinds.add(json.loads(await asyncio.wait_for(socket.recv(), 10))["type"])
            await listener.close()
            await log.close()
            info = (await http.get(f"{a}/rooms/{room_id}")).json()
            assert len(info["participants"]) <= 1

            on_a = make_client(http, await fetch_card(http, f"{a}/agents/shuai"), streaming=False)
            [done] = [r async for r in on_a.send_message(user_message("Why trams?"))]
            process_a.send_signal(signal.SIGKILL)  # right after A said the task completed
            process_a.wait(10)
            on_b = make_client(http, await fetch_card(http, f"{b}/agents/shuai"))
            kept = await on_b.get_task(pb.GetTaskRequest(id=done.task.id))
            assert kept.status.state == pb.TaskState.TASK_STATE_COMPLETED
            assert text_of(kept) == text_of(done.task) != ""
            killed = time.monotonic()
            holder = ""
            while holder != b:  # B takes the room over once A's lease runs out
                assert time.monotonic() - killed < 10, "no take-over within 10 s"
                answer = await http.get(f"{b}/rooms")
                holder = {r["id"]: r for r in answer.json()}.get(room_id, {}).get("replica", "")
                await asyncio.sleep(0.2)
            took = time.monotonic() - killed
            assert took < float(LEASE) + 3
            again = await http.post(f"{b}/rooms/{room_id}/say", json={"text": "Mei, and now?"})
            assert again.status_code == 202
            assert (await http.delete(f"{b}/rooms/{room_id}")).status_code == 204
            assert (await http.get(f"{b}/rooms/{room_id}")).status_code == 404
