"""Voice rooms end to end on loopback: real aiortc peers, the real speech fixtures, the
embedded engines (webrtcvad, PocketSphinx, eSpeak NG)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import numpy as np
import pytest
import websockets
from a2a.types import a2a_pb2 as pb

from clients.a2a import fetch_card, make_client, settled_task, text_of
from clients.fixtures import labelled_speech
from clients.rtc import EventLog, join
from clients.tracks import ScriptedTrack
from server.settings import RoomSettings
from tests.serving import serve_podium


async def test_speaker_is_heard_transcribed_and_answered_aloud(tmp_path: Path) -> None:
    clip = labelled_speech()[1]  # "he was not an ill disposed young man"
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Manners"})).json()
            log = EventLog(http, url, room["id"])
            track = ScriptedTrack(clip.pcm, lead=0.6)
            speaker = await join(http, url, room["id"], "speaker", track, name="Ann")
            listener = await join(http, url, room["id"], "listener", name="Bo")
            [started] = await log.wait_for("speech_started", who="Ann")
            [stopped] = await log.wait_for("speech_stopped", who="Ann")
            [final] = await log.wait_for("final_transcript")
            assert final["text"], "the utterance was recognized"
            assert set(final["text"].split()) & set(clip.words.split()), final["text"]
            [turn] = await log.wait_for("turn_started")
            [ended] = await log.wait_for("turn_ended", timeout=60)
            assert ended["state"] == "completed"
            played = log.of("words_played")
            spoken = "".join(e["text"] for e in played if e["task_id"] == turn["task_id"])
            for peer in (speaker, listener):
                await peer.wait_loud(25)  # the debater's voice arrived
            client = make_client(http, await fetch_card(http, f"{url}/agents/{turn['agent']}"))
            task = await settled_task(client, turn["task_id"])
            assert task.status.state == pb.TaskState.TASK_STATE_COMPLETED
            assert text_of(task) == spoken and len(spoken.split()) > 5
            info = (await http.get(f"{url}/rooms/{room['id']}")).json()
            assert {p["name"] for p in info["participants"]} == {"Ann", "Bo"}
            assert started["t"] <= stopped["t"]
            await log.close()
            for peer in (speaker, listener):
                await peer.close()


async def test_two_listeners_hear_a_debate_and_a_vanished_one_is_removed(tmp_path: Path) -> None:
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (
                await http.post(
                    f"{url}/rooms", json={"topic": "Trams", "debate": True, "rounds": 1}
                )
            ).json()
            log = EventLog(http, url, room["id"])
            first = await join(http, url, room["id"], "listener")
            second = await join(http, url, room["id"], "listener")
            await log.wait_for("turn_started")
            await first.wait_loud(20)
            await second.wait_loud(20)
            third = await join(http, url, room["id"], "listener")
            await second.pc.close()  # the tab is closed
            await log.wait_for("participant_left", timeout=10, id=second.participant_id)
            await third.connected()  # a listener that was there…
            third.vanish()  # …and whose network is gone: only ICE consent checks notice
            await log.wait_for("participant_left", timeout=20, id=third.participant_id)
            info = (await http.get(f"{url}/rooms/{room['id']}")).json()
            assert [p["id"] for p in info["participants"]] == [first.participant_id]
            deleted = await http.delete(f"{url}/rooms/{room['id']}")
            assert deleted.status_code == 204
            assert (await http.get(f"{url}/rooms/{room['id']}")).status_code == 404
            await first.close()
            await third.pc.close()
            await log.close()


async def test_room_bad_input(tmp_path: Path) -> None:
    with serve_podium(tmp_path, rooms=RoomSettings(max_rooms=1)) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            assert (await http.get(f"{url}/rooms/nope")).status_code == 404
            unknown = await http.post(f"{url}/rooms", json={"topic": "x", "agents": ["zed"]})
            assert unknown.status_code == 404
            room = (await http.post(f"{url}/rooms", json={"topic": "x"})).json()
            assert (await http.post(f"{url}/rooms", json={"topic": "y"})).status_code == 429
            offer = f"{url}/rooms/{room['id']}/offer"
            garbage = await http.post(offer, json={"sdp": "v=0 nonsense m=audio", "type": "offer"})
            assert garbage.status_code == 400 and "offer" in garbage.json()["error"]["message"]
            no_audio = await http.post(offer, json={"sdp": "v=0\r\n", "type": "offer"})
            assert no_audio.status_code == 400
            assert "audio" in no_audio.json()["error"]["message"]
            typed = await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Mei, hello"})
            assert typed.json()["agent"] == "mei"
            assert (await http.get(f"{url}/healthz")).status_code == 200


async def test_websocket_audio_speaker_is_heard_and_hears_the_room(tmp_path: Path) -> None:
    """A client without WebRTC: 16 kHz s16le PCM over a WebSocket, both ways."""
    clip = labelled_speech()[1]
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Sockets"})).json()
            log = EventLog(http, url, room["id"])
            ws_url = url.replace("http", "ws") + f"/rooms/{room['id']}/audio?name=Cy"
            async with websockets.connect(ws_url) as socket:
                joined = json.loads(await socket.recv())
                assert joined["type"] == "joined" and joined["rate"] == 16000
                received: list[np.ndarray] = []
                listening: list[asyncio.Event] = []

                async def listen() -> None:
                    async for message in socket:
                        if isinstance(message, bytes):
                            received.append(np.frombuffer(message, np.int16))
                            for event in listening:
                                event.set()

                reader = asyncio.create_task(listen())
                silence = np.zeros(8000, np.int16)  # a microphone goes on sending: 2 s after
                pcm = np.concatenate([silence, clip.pcm, *[silence] * 4])  # (a voice that
                # sounds unfinished, as this one does, waits the end-of-turn fallback)
                await socket.send(b"\x01")  # garbage (one odd byte) is dropped, not fatal
                loop = asyncio.get_running_loop()
                start = loop.time()
                for index, offset in enumerate(range(0, len(pcm), 320)):
                    await socket.send(pcm[offset : offset + 320].tobytes())
                    await asyncio.sleep(max(0.0, start + (index + 1) * 0.02 - loop.time()))
                [final] = await log.wait_for("final_transcript", who="Cy")
                assert set(final["text"].split()) & set(clip.words.split()), [
                    (e["type"], e.get("text"), e.get("t")) for e in log.events
                ]
                [turn] = await log.wait_for("turn_started")
                await log.wait_for("words_played", count=3, task_id=turn["task_id"])
                heard = asyncio.Event()

                async def loud_enough() -> None:
                    while sum(1 for f in received if np.abs(f).max() > 500) <= 10:
                        heard.clear()
                        await heard.wait()

                listening.append(heard)
                await asyncio.wait_for(loud_enough(), 20)  # the room's voice
                assert all(len(f) == 320 for f in received), "20 ms frames of 16 kHz"
                info = (await http.get(f"{url}/rooms/{room['id']}")).json()
                assert info["participants"][0]["transport"] == "websocket"
                reader.cancel()
            await log.wait_for("participant_left", name="Cy")
            missing = url.replace("http", "ws") + "/rooms/nope/audio"
            async with websockets.connect(missing) as refused:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await refused.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
            await log.close()


async def test_a_room_deleted_as_its_debate_begins_leaves_its_turns_canceled(
    tmp_path: Path,
) -> None:
    """Deleted as the first turn starts (its task perhaps not stored yet): once the DELETE has
    answered, that turn's task is ``canceled``, saying why (the debate or the room was
    closed); none runs on."""
    with serve_podium(tmp_path, rooms=RoomSettings(max_rooms=3)) as url:
        async with httpx.AsyncClient(timeout=20) as http:

            async def deleted_as_it_begins() -> dict[str, str]:
                body = {"topic": "Trams", "debate": True, "rounds": 2}
                room = (await http.post(f"{url}/rooms", json=body)).json()
                log = EventLog(http, url, room["id"])
                try:
                    [turn] = await log.wait_for("turn_started")
                finally:
                    await log.close()
                assert (await http.delete(f"{url}/rooms/{room['id']}")).status_code == 204
                return {"agent": turn["agent"], "task_id": turn["task_id"]}

            turns = await asyncio.gather(*(deleted_as_it_begins() for _ in range(3)))
            for turn in turns:
                task = await http.get(
                    f"{url}/agents/{turn['agent']}/tasks/{turn['task_id']}",
                    headers={"A2A-Version": "1.0"},
                )
                status = task.json()["status"]
                assert status["state"] == "TASK_STATE_CANCELED", status
                assert status["message"]["parts"][0]["text"], "canceled saying why"
