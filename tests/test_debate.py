"""Text debates through the moderator (root agent) with the real a2a-sdk client."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from a2a.types import a2a_pb2 as pb

from server.settings import BrainSettings
from tests.a2a_helpers import (
    fetch_card,
    make_client,
    status_metadata,
    text_of,
    user_message,
)
from tests.serving import serve_podium


async def test_debate_turns_are_tasks_on_each_debater(podium: str) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        root = make_client(http, await fetch_card(http, podium))
        debate = user_message("Should cities ban cars?", podium={"rounds": 2})
        events = [e async for e in root.send_message(debate)]
        started = [m for m in map(status_metadata, events) if m.get("event") == "turn_started"]
        assert [m["speaker"] for m in started] == ["mei", "shuai", "mei", "shuai"]
        assert events[-1].status_update.status.state == pb.TaskState.TASK_STATE_COMPLETED
        relayed: dict[str, str] = {}
        for e in events:
            if e.HasField("artifact_update"):
                turn = e.artifact_update.artifact.metadata["turn_task_id"]
                text = "".join(p.text for p in e.artifact_update.artifact.parts)
                relayed[turn] = relayed.get(turn, "") + text
        for meta in started:
            client = make_client(http, await fetch_card(http, f"{podium}/agents/{meta['speaker']}"))
            turn = await client.get_task(pb.GetTaskRequest(id=meta["turn_task_id"]))
            assert turn.status.state == pb.TaskState.TASK_STATE_COMPLETED
            assert turn.context_id == events[-1].status_update.context_id
            assert text_of(turn) == relayed[turn.id]
        assert len(set(relayed.values())) == 4, "turns do not repeat"


async def test_cancel_debate_cancels_running_turn_and_interjections(tmp_path: Path) -> None:
    with serve_podium(tmp_path, brain=BrainSettings(words_per_second=25)) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            root = make_client(http, await fetch_card(http, url))
            stream = root.send_message(user_message("Is homework useful?", podium={"rounds": 3}))
            turn_id = ""
            context_id = ""
            async for event in stream:
                meta = status_metadata(event)
                if meta.get("event") == "turn_started":
                    turn_id, context_id = meta["turn_task_id"], event.status_update.context_id
                    break
            # A person interjects in the running debate; the router picks Mei by name.
            asked = root.send_message(user_message("Mei, how does it feel?", context_id=context_id))
            answer = [e async for e in asked]
            routed = [m for m in map(status_metadata, answer) if m.get("event") == "routed"]
            assert routed[0]["agent"] == "mei" and routed[0]["reason"] == "addressed"
            answered = [m for m in map(status_metadata, answer) if m.get("event") == "turn_started"]
            assert answered[0]["speaker"] == "mei"
            assert answer[-1].status_update.status.state == pb.TaskState.TASK_STATE_COMPLETED

            moderator_task = answer[-1].status_update.task_id
            debate_task = (await root.list_tasks(pb.ListTasksRequest(context_id=context_id))).tasks
            running = [t for t in debate_task if t.id != moderator_task]
            assert len(running) == 1
            await asyncio.sleep(0.3)
            canceled = await root.cancel_task(pb.CancelTaskRequest(id=running[0].id))
            assert canceled.status.state == pb.TaskState.TASK_STATE_CANCELED
            await stream.aclose()
            # Every debater turn in the context has ended; the running one was canceled.
            states = []
            for name in ("mei", "shuai"):
                client = make_client(http, await fetch_card(http, f"{url}/agents/{name}"))
                listed = await client.list_tasks(pb.ListTasksRequest(context_id=context_id))
                states += [t.status.state for t in listed.tasks]
            assert pb.TaskState.TASK_STATE_WORKING not in states
            assert pb.TaskState.TASK_STATE_CANCELED in states
            assert turn_id
