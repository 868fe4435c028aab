"""Agents invited into a room by the URL of their card, on loopback: a remote a2a-sdk agent
debates aloud next to a local debater (its note shown, its answer voiced), it is the room's
and nobody else's, and a URL that is private, not an agent or not there is refused with the
URL and the reason."""

from __future__ import annotations

from pathlib import Path

import httpx
from a2a.types import a2a_pb2 as pb

from clients.a2a import fetch_card, final_state, make_client, status_metadata, user_message
from clients.launch import free_port
from clients.rtc import EventLog
from server.settings import RemoteAgentSettings
from tests.fakes import FakeSpeechToText, FakeTextToSpeech
from tests.remote_agents import ANSWER, NOTE, Shape, remote_agent
from tests.serving import serve_app, serve_podium

LOOPBACK_ALLOWED = RemoteAgentSettings(allow_private_urls=True)


async def test_an_agent_invited_by_url_debates_aloud_next_to_a_local_debater(
    tmp_path: Path,
) -> None:
    port = free_port()
    remote = f"http://localhost:{port}"
    engines = (FakeSpeechToText(), FakeTextToSpeech(seconds_per_word=0.02))
    with (
        serve_app(remote_agent(Shape.NOTE_THEN_ARTIFACT, remote), port),
        serve_podium(tmp_path, engines=engines, remote_agents=LOOPBACK_ALLOWED) as url,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            body = {"topic": "Trams", "agents": ["mei", remote]}
            created = await http.post(f"{url}/rooms", json=body)
            assert created.status_code == 201, created.text
            room = created.json()
            (guest,) = [a for a in room["agents"] if a != "mei"]
            assert room["invited"][guest]["card_url"] == remote
            assert room["invited"][guest]["display_name"] == "remote note_then_artifact"
            listed = [a["podium"]["name"] for a in (await http.get(f"{url}/agents")).json()]
            assert guest not in listed  # the room's guest, not a debater of the server

            log = EventLog(http, url, room["id"])
            started = await http.post(f"{url}/rooms/{room['id']}/debate", json={"rounds": 1})
            assert started.status_code == 202, started.text
            await log.wait_for("debate_finished", timeout=60)
            ended = {e["agent"]: e["state"] for e in log.of("turn_ended")}
            assert ended == {"mei": "completed", guest: "completed"}
            [progress] = log.of("progress_noted")
            assert (progress["agent"], progress["text"]) == (guest, NOTE)
            heard = "".join(e["text"] for e in log.of("words_played") if e["agent"] == guest)
            assert heard.split() == ANSWER.split(), "its answer is voiced, its note is not"
            await log.close()

            assert (await http.delete(f"{url}/rooms/{room['id']}")).status_code == 204
            again = await http.post(f"{url}/rooms", json={"topic": "x", "agents": [guest]})
            assert again.status_code == 404  # gone with its room


async def test_private_missing_and_non_agent_urls_are_refused_with_the_reason(
    tmp_path: Path,
) -> None:
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            private = "http://127.0.0.1:9/agent"
            refused = await http.post(f"{url}/rooms", json={"topic": "x", "agents": [private]})
            assert refused.status_code == 400
            message = refused.json()["error"]["message"]
            assert private in message and "loopback" in message
            assert (await http.get(f"{url}/rooms")).json() == []  # no room was made
            for bad in ("https://", "http://[::1"):  # not URLs at all
                refused = await http.post(f"{url}/rooms", json={"topic": "x", "agents": [bad]})
                assert refused.status_code == 400 and bad in refused.json()["error"]["message"]
    with serve_podium(tmp_path / "b", remote_agents=LOOPBACK_ALLOWED) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            many = [f"{url}/agent-{i}" for i in range(5)]  # one more than a room may invite
            refused = await http.post(f"{url}/rooms", json={"topic": "x", "agents": many})
            assert refused.status_code == 400 and "at most 4" in refused.json()["error"]["message"]
            not_agent = f"{url}/web"  # answers, but no card under it
            refused = await http.post(f"{url}/rooms", json={"topic": "x", "agents": [not_agent]})
            assert refused.status_code == 422
            assert not_agent in refused.json()["error"]["message"]
            gone = f"http://localhost:{free_port()}"  # nothing listens
            refused = await http.post(f"{url}/rooms", json={"topic": "x", "agents": [gone]})
            assert refused.status_code == 422 and gone in refused.json()["error"]["message"]


async def test_a_debate_through_the_moderator_invites_speakers_by_url_for_its_length(
    tmp_path: Path,
) -> None:
    """``metadata.podium.speakers`` names a remote agent by its card URL next to a local
    debater: the a2a-sdk client sees both take turns; the guest is let go when the debate
    ends, and a refused URL rejects the debate with the URL and the reason."""
    port = free_port()
    remote = f"http://localhost:{port}"
    with (
        serve_app(remote_agent(Shape.NOTE_THEN_ARTIFACT, remote), port),
        serve_podium(tmp_path, remote_agents=LOOPBACK_ALLOWED) as url,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            root = make_client(http, await fetch_card(http, url))
            ask = user_message("Trams?", podium={"rounds": 1, "speakers": ["mei", remote]})
            events = [e async for e in root.send_message(ask)]
            assert final_state(events) == pb.TaskState.TASK_STATE_COMPLETED
            metas = [m for m in map(status_metadata, events) if m.get("event")]
            [started] = [m for m in metas if m["event"] == "debate_started"]
            guest = started["speakers"][1]
            assert started["speakers"][0] == "mei" and guest != remote
            ended = {m["speaker"]: m["state"] for m in metas if m["event"] == "turn_ended"}
            assert ended == {"mei": "completed", guest: "completed"}
            answered = (await http.get(f"{url}/agents/{guest}")).status_code
            assert answered == 404, "let go with its debate"

            private = "http://127.0.0.1:9/agent"
            ask = user_message("Trams?", podium={"speakers": ["mei", private]})
            events = [e async for e in root.send_message(ask)]
            assert final_state(events) == pb.TaskState.TASK_STATE_REJECTED
            reason = events[-1].status_update.status.message.parts[0].text
            assert private in reason, reason


async def test_a_reopened_room_invites_its_agents_again(tmp_path: Path) -> None:
    """The room's record keeps the card URL: after a restart the agent is invited again,
    under the room's own name for it, and debates."""
    port = free_port()
    remote = f"http://localhost:{port}"
    engines = (FakeSpeechToText(), FakeTextToSpeech(seconds_per_word=0.02))
    with serve_app(remote_agent(Shape.NOTE_THEN_ARTIFACT, remote), port):
        async with httpx.AsyncClient(timeout=30) as http:
            with serve_podium(tmp_path, engines=engines, remote_agents=LOOPBACK_ALLOWED) as url:
                body = {"topic": "Trams", "agents": ["mei", remote]}
                room = (await http.post(f"{url}/rooms", json=body)).json()
                (guest,) = [a for a in room["agents"] if a != "mei"]
            with serve_podium(tmp_path, engines=engines, remote_agents=LOOPBACK_ALLOWED) as url:
                reopened = (await http.get(f"{url}/rooms/{room['id']}")).json()
                assert reopened["agents"] == ["mei", guest]
                assert reopened["invited"][guest]["card_url"] == remote
                log = EventLog(http, url, room["id"])
                started = await http.post(f"{url}/rooms/{room['id']}/debate", json={"rounds": 1})
                assert started.status_code == 202, started.text
                await log.wait_for("debate_finished", timeout=60)
                ended = {e["agent"]: e["state"] for e in log.of("turn_ended")}
                assert ended == {"mei": "completed", guest: "completed"}
                await log.close()
