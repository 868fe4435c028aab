"""Text debates through the moderator (root agent) with the real a2a-sdk client."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path
from typing import Any

import httpx
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import A2AError
from google.protobuf.json_format import MessageToDict

from agents.floor.arbiter import FloorPolicy
from agents.persona import BrainSpec
from agents.task_states import terminal_name
from clients.a2a import (
    fetch_card,
    make_client,
    status_metadata,
    text_of,
    user_message,
)
from server.settings import DebateSettings
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


async def end_of(client: Any, task_id: str) -> int:
    """The state ``task_id`` ends in, followed as it goes (SubscribeToTask)."""
    try:
        async for response in client.subscribe(pb.SubscribeToTaskRequest(id=task_id)):
            if response.HasField("status_update") and terminal_name(
                response.status_update.status.state
            ):
                return int(response.status_update.status.state)
    except A2AError:  # it ended before the subscription began
        pass
    return int((await client.get_task(pb.GetTaskRequest(id=task_id))).status.state)


async def test_cancel_debate_cancels_running_turn_and_interjections(tmp_path: Path) -> None:
    with serve_podium(tmp_path, brain=BrainSpec(words_per_second=25)) as url:
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
            await anext(stream)  # the debate goes on after the interjection
            canceled = await root.cancel_task(pb.CancelTaskRequest(id=running[0].id))
            assert canceled.status.state == pb.TaskState.TASK_STATE_CANCELED
            await stream.aclose()
            # Every debater turn in the context ends; the running one was canceled. A turn the
            # debate was starting as it was canceled is called off at once (its task may still
            # show working for a moment: followed here to its end).
            states = []
            for name in ("mei", "shuai"):
                client = make_client(http, await fetch_card(http, f"{url}/agents/{name}"))
                listed = await client.list_tasks(pb.ListTasksRequest(context_id=context_id))
                for task in listed.tasks:
                    state = task.status.state
                    if state == pb.TaskState.TASK_STATE_WORKING:
                        state = await asyncio.wait_for(end_of(client, task.id), 10)
                    states.append(state)
            assert pb.TaskState.TASK_STATE_WORKING not in states
            assert pb.TaskState.TASK_STATE_CANCELED in states
            assert turn_id


async def test_text_debate_interruption_leaves_consistent_tasks_and_history(
    tmp_path: Path,
) -> None:
    """On the words-per-minute clock, Shuai cuts in on a claim he rejects: Mei's turn ends
    canceled, holding exactly the words delivered before the cut, everywhere."""
    floor = FloorPolicy(min_floor=0.5, cooldown=0.0, budget=1)
    with serve_podium(tmp_path, debate=DebateSettings(text_wpm=1200), floor=floor) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            root = make_client(http, await fetch_card(http, url))
            # One context, so one script: its debaters bid mid-turn (a bid on a turn's last
            # sentence cuts nothing, and a random script might hold no other).
            debate = user_message(
                "Should cities ban cars?", context_id="c-interrupted", podium={"rounds": 2}
            )
            events = [e async for e in root.send_message(debate)]
            assert events[-1].status_update.status.state == pb.TaskState.TASK_STATE_COMPLETED
            metas = [m for m in map(status_metadata, events) if m.get("event")]
            granted = [m for m in metas if m["event"] == "bid" and m["granted"]]
            assert len(granted) == 1, "the budget allows one interruption"
            cut = [m for m in metas if m["event"] == "turn_ended" and m["state"] == "canceled"]
            assert len(cut) == 1 and cut[0]["by"] == granted[0]["agent"]
            assert cut[0]["speaker"] == granted[0]["over"]
            speakers = [m["speaker"] for m in metas if m["event"] == "turn_started"]
            cut_index = [m["turn_task_id"] for m in metas if m["event"] == "turn_started"].index(
                cut[0]["turn_task_id"]
            )
            assert speakers[cut_index + 1] == granted[0]["agent"], "the interrupter speaks next"
            assert len(speakers) == 4

            relayed = ""
            for e in events:
                if e.HasField("artifact_update"):
                    artifact = e.artifact_update.artifact
                    if artifact.metadata["turn_task_id"] == cut[0]["turn_task_id"]:
                        relayed += "".join(p.text for p in artifact.parts)
            speaker = cut[0]["speaker"]
            client = make_client(http, await fetch_card(http, f"{url}/agents/{speaker}"))
            turn = await client.get_task(pb.GetTaskRequest(id=cut[0]["turn_task_id"]))
            assert turn.status.state == pb.TaskState.TASK_STATE_CANCELED
            why = MessageToDict(turn.status.message)["parts"][0]["text"]
            assert why.startswith("interrupted by")
            assert text_of(turn) == relayed and relayed.strip()

            context_id = events[-1].status_update.context_id
            with sqlite3.connect(tmp_path / "podium.sqlite3") as db:
                rows = db.execute(
                    "SELECT speaker, text, interrupted FROM utterances WHERE task_id = ?",
                    (turn.id,),
                ).fetchall()
            assert rows == [(speaker, relayed.strip(), 1)], "history holds only what was said"
            interrupter = make_client(
                http, await fetch_card(http, f"{url}/agents/{granted[0]['agent']}")
            )
            listed = await interrupter.list_tasks(pb.ListTasksRequest(context_id=context_id))
            # The interrupter opens by quoting the sentence it cut in on.
            replies = [
                text_of(await interrupter.get_task(pb.GetTaskRequest(id=t.id)))
                for t in listed.tasks
            ]
            openings = [set(re.findall(r"[a-z']+", r.lower())[:12]) for r in replies]
            heard = set(re.findall(r"[a-z']+", relayed.lower()))
            assert any(len(opening & heard) >= 3 for opening in openings), (openings, heard)
