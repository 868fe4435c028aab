"""Barge-in end to end on loopback: a real aiortc client speaks (or makes noise) over a
debater's voice turn; two rooms on one server run at once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from a2a.types import a2a_pb2 as pb
from google.protobuf.json_format import MessageToDict
from prometheus_client.parser import text_string_to_metric_families

from agents.floor.arbiter import FloorPolicy
from clients.a2a import fetch_card, make_client, text_of
from clients.fixtures import labelled_speech, noise
from clients.rtc import EventLog, Peer, join
from clients.tracks import CueTrack
from tests.serving import serve_podium


async def _agent_speaking(
    http: httpx.AsyncClient, url: str, who: str, question: str
) -> tuple[str, EventLog, Peer, CueTrack, dict[str, Any]]:
    room = (await http.post(f"{url}/rooms", json={"topic": "Trams"})).json()
    log = EventLog(http, url, room["id"])
    await log.wait_for("subscribed")
    track = CueTrack()
    peer = await join(http, url, room["id"], "speaker", track, name=who)
    await http.post(f"{url}/rooms/{room['id']}/say", json={"text": question, "name": who})
    [turn] = await log.wait_for("turn_started")
    [first, *_] = await log.wait_for("words_played", count=3, task_id=turn["task_id"])
    # Well past the echo guard's warm-up: a word played a second after the first one.
    await log.wait_until(
        lambda events: any(
            e["type"] == "words_played"
            and e["task_id"] == turn["task_id"]
            and e["t"] >= first["t"] + 1.0
            for e in events
        )
    )
    return room["id"], log, peer, track, turn


def _quiet_between(peer: Peer, start: float, end: float) -> bool:
    frames = [f for f, at in zip(peer.received, peer.arrivals, strict=True) if start <= at <= end]
    return bool(frames) and all(int(np.abs(f).max()) < 500 for f in frames)


async def _person_cuts_in(http: httpx.AsyncClient, url: str) -> None:
    clip = labelled_speech()[1]  # "he was not an ill disposed young man"
    room_id, log, peer, track, turn = await _agent_speaking(
        http, url, "Ann", "Mei, what do trams do for a street?"
    )
    track.play(clip.pcm, clip.onset)
    [ducked] = await log.wait_for("ducked", timeout=10)
    assert ducked["task_id"] == turn["task_id"] and ducked["by"] == "Ann"
    [cut] = await log.wait_for("interrupted", timeout=10)
    assert cut["kind"] == "human" and cut["agent"] == turn["agent"]
    [ended] = await log.wait_for("turn_ended", task_id=turn["task_id"], timeout=10)
    assert ended["state"] == "interrupted"
    [stopped] = await log.wait_for("speech_stopped", who="Ann", timeout=15)
    assert log.events.index(ducked) < log.events.index(stopped), "ducked while still speaking"
    assert track.onset_at is not None
    assert _quiet_between(peer, track.onset_at + 0.4, track.onset_at + 1.5), "the agent fell silent"

    # The person's utterance is answered.
    answer = (await log.wait_for("turn_started", count=2, timeout=30))[1]
    assert answer["task_id"] != turn["task_id"]

    # The interrupted task holds exactly the words that were played, and says who cut it.
    client = make_client(http, await fetch_card(http, f"{url}/agents/{turn['agent']}"))
    task = await client.get_task(pb.GetTaskRequest(id=turn["task_id"]))
    assert task.status.state == pb.TaskState.TASK_STATE_CANCELED
    why = MessageToDict(task.status.message.metadata)  # the stored status says who and why
    assert why["by"] == "Ann" and why["interruption"] == "human"
    played = "".join(e["text"] for e in log.of("words_played") if e["task_id"] == turn["task_id"])
    assert text_of(task) == played and played.strip()
    info = (await http.get(f"{url}/rooms/{room_id}")).json()
    assert info["stats"]["interruptions:human"] == 1
    assert info["stats"]["bargein_ms"]["count"] == 1
    await log.close()
    await peer.close()


async def _noise_never_interrupts(http: httpx.AsyncClient, url: str) -> None:
    _, log, peer, track, turn = await _agent_speaking(http, url, "Bo", "Shuai, what do trams cost?")
    track.play(np.concatenate([noise("loud-white", 2.0), noise("clicks", 2.0)]))
    [ended] = await log.wait_for("turn_ended", task_id=turn["task_id"], timeout=60)
    assert ended["state"] == "completed"
    assert not log.of("ducked") and not log.of("interrupted") and not log.of("speech_started")
    await log.close()
    await peer.close()


async def _debater_cuts_in(http: httpx.AsyncClient, url: str, data: Path) -> None:
    room = (await http.post(f"{url}/rooms", json={"topic": "Should cities ban cars?"})).json()
    log = EventLog(http, url, room["id"])
    await log.wait_for("subscribed")  # the log follows the room before the debate starts
    peer = await join(http, url, room["id"], "listener")
    await http.post(f"{url}/rooms/{room['id']}/debate", json={"rounds": 1})
    [cut] = await log.wait_for("turn_ended", state="interrupted", timeout=60)
    await log.wait_for("debate_finished", timeout=90)
    # The cut turn may end (its task settles) after the interrupter has begun, as they
    # overlap: the granted bid says who cut in, and the interrupter's turn follows it.
    [granted] = [e for e in log.of("bid_made") if e["granted"]]  # a budget of one cut-in
    assert granted["over"] == cut["agent"]
    interrupter = granted["agent"]
    assert interrupter != cut["agent"], "another debater cut in"
    after = log.events[log.events.index(granted) :]
    assert any(e["type"] == "turn_started" and e["agent"] == interrupter for e in after), (
        "the interrupter takes the floor"
    )
    played = "".join(e["text"] for e in log.of("words_played") if e["task_id"] == cut["task_id"])
    client = make_client(http, await fetch_card(http, f"{url}/agents/{cut['agent']}"))
    task = await client.get_task(pb.GetTaskRequest(id=cut["task_id"]))
    assert task.status.state == pb.TaskState.TASK_STATE_CANCELED
    why = MessageToDict(task.status.message.metadata)
    assert why["by"] == interrupter and why["interruption"] == "agent"
    assert text_of(task) == played and played.strip()
    with sqlite3.connect(data / "podium.sqlite3") as db:
        rows = db.execute(
            "SELECT speaker, text, interrupted FROM utterances WHERE task_id = ?", (task.id,)
        ).fetchall()
    assert rows == [(cut["agent"], played.strip(), 1)], "the history holds what was heard"
    stats = (await http.get(f"{url}/rooms/{room['id']}")).json()["stats"]
    assert stats["interruptions:agent"] == 1 and stats["overlap_ms"]["count"] >= 1
    await log.close()
    await peer.close()


async def test_people_and_debaters_cut_in_and_noise_does_not(tmp_path: Path) -> None:
    floor = FloorPolicy(min_floor=1.0, budget=1)
    with serve_podium(tmp_path, floor=floor) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            await asyncio.gather(
                _person_cuts_in(http, url),
                _noise_never_interrupts(http, url),
                _debater_cuts_in(http, url, tmp_path),
            )
            exposed = (await http.get(f"{url}/metrics")).text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposed)
        for s in family.samples
    }
    assert samples[("podium_interruptions_total", (("kind", "human"),))] == 1
    assert samples[("podium_bargein_seconds_count", ())] == 1
    # The white noise bursting over Shuai was taken for an "s" once: held, given back, and
    # the turn completed (the released hold is no barge-in above).
    assert samples[("podium_holds_released_total", ())] == 1
