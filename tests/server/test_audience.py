"""An audience on one encoding of the mix, on loopback with real aiortc peers: every listener
hears the turns and the silence between them, a speaker never hears their own voice while the
listeners do, a late listener hears the rest of a turn, and a vanished listener does not
disturb the others."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCRtpSender

from clients.fixtures import labelled_speech
from clients.rtc import EventLog, Peer, join
from clients.tracks import ScriptedTrack
from server.settings import RoomSettings
from tests.serving import serve_podium

LOUD = 500


def loud_between(peer: Peer, start: float, end: float) -> tuple[int, int]:
    """(loud frames, all frames) that arrived between two client times."""
    frames = [f for f, at in zip(peer.received, peer.arrivals, strict=True) if start <= at <= end]
    return sum(int(np.abs(f).max()) > LOUD for f in frames), len(frames)


async def test_listeners_on_one_encoding_hear_each_turn_and_the_silence_after_it(
    tmp_path: Path,
) -> None:
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Bridges"})).json()
            log = EventLog(http, url, room["id"])
            listeners = [await join(http, url, room["id"], "listener") for _ in range(4)]
            said = await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Mei, why?"})
            assert said.status_code == 202
            await log.wait_for("turn_started")
            for peer in listeners:
                await peer.wait_loud(25)
            await log.wait_for("turn_ended", timeout=60)
            ended = time.monotonic()
            for peer in listeners:  # a second of the room after the turn
                await peer.wait_until(ended + 1.2)
            for peer in listeners:
                loud, frames = loud_between(peer, ended + 0.2, ended + 1.2)
                assert frames >= 40 and loud == 0, (loud, frames)
            info = (await http.get(f"{url}/rooms/{room['id']}")).json()
            assert info["send_pacing_ms"]["count"] > 100
            for peer in listeners:
                await peer.close()
            await log.close()


async def test_a_speaker_does_not_hear_themself_but_the_listeners_do(tmp_path: Path) -> None:
    clip = labelled_speech()[0]
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Echo"})).json()
            log = EventLog(http, url, room["id"])
            listener = await join(http, url, room["id"], "listener")
            track = ScriptedTrack(clip.pcm, lead=0.5)
            speaker = await join(http, url, room["id"], "speaker", track, name="Ann")
            await log.wait_for("speech_stopped", who="Ann")
            await log.wait_for("turn_started")
            answer_began = time.monotonic()  # the agent's voice can only come after this
            await listener.wait_until(answer_began)
            await speaker.wait_until(answer_began)
            heard_by_listener, _ = loud_between(listener, 0, answer_began)
            heard_by_speaker, frames = loud_between(speaker, 0, answer_began)
            assert heard_by_listener >= 25, "the listeners hear the person speak"
            assert frames >= 50 and heard_by_speaker == 0, "the speaker is not sent their voice"
            await speaker.wait_loud(25)  # and the speaker hears the agent's answer
            await speaker.close()
            await listener.close()
            await log.close()


async def test_a_listener_joining_mid_turn_hears_the_rest_of_it(tmp_path: Path) -> None:
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Late"})).json()
            log = EventLog(http, url, room["id"])
            first = await join(http, url, room["id"], "listener")
            text = "Mei, tell us at length why trams beat buses in every city."
            await http.post(f"{url}/rooms/{room['id']}/say", json={"text": text})
            [turn] = await log.wait_for("turn_started")
            await log.wait_for("words_played", count=3, task_id=turn["task_id"])
            late = await join(http, url, room["id"], "listener")
            await late.wait_loud(20)
            [ended] = await log.wait_for("turn_ended", timeout=60)
            assert ended["task_id"] == turn["task_id"]
            await first.close()
            await late.close()
            await log.close()


async def test_a_vanished_listener_does_not_disturb_the_others(tmp_path: Path) -> None:
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Gone"})).json()
            log = EventLog(http, url, room["id"])
            stays = await join(http, url, room["id"], "listener", decode=False)
            goers = [await join(http, url, room["id"], "listener", decode=False) for _ in range(3)]
            await stays.wait_until(time.monotonic() + 0.5)
            for peer in goers:
                await peer.connected()  # listeners that were there, whose network then goes
                peer.vanish()
            mark = len(stays.arrivals)
            await log.wait_for("participant_left", count=3, timeout=30)
            gaps = np.diff(np.asarray(stays.arrivals[mark:]))
            assert len(gaps) > 100, "packets kept coming while the others were timing out"
            assert float(np.percentile(gaps, 50)) < 0.03 and float(gaps.max()) < 0.25
            await stays.close()
            for peer in goers:
                await peer.pc.close()
            await log.close()


async def test_an_offer_without_opus_is_refused_with_the_reason(tmp_path: Path) -> None:
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Codecs"})).json()
            pc = RTCPeerConnection()
            transceiver = pc.addTransceiver("audio", direction="recvonly")
            pcmu = [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.name == "PCMU"]
            transceiver.setCodecPreferences(pcmu)
            await pc.setLocalDescription(await pc.createOffer())
            body = {"sdp": pc.localDescription.sdp, "type": "offer", "role": "listener"}
            refused = await http.post(f"{url}/rooms/{room['id']}/offer", json=body)
            assert refused.status_code == 400
            assert "Opus" in refused.json()["error"]["message"]
            info = (await http.get(f"{url}/rooms/{room['id']}")).json()
            assert info["participants"] == [], "nothing was admitted"
            await pc.close()


async def test_listeners_and_speakers_have_their_own_limits(tmp_path: Path) -> None:
    with serve_podium(tmp_path, rooms=RoomSettings(max_listeners=2, max_speakers=1)) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Limits"})).json()
            peers = [await join(http, url, room["id"], "listener", decode=False) for _ in "ab"]
            track = ScriptedTrack(labelled_speech()[0].pcm)
            peers.append(await join(http, url, room["id"], "speaker", track, decode=False))
            for role, extra in (
                ("listener", None),
                ("speaker", ScriptedTrack(labelled_speech()[1].pcm)),
            ):
                with pytest.raises(httpx.HTTPStatusError) as refused:
                    await join(http, url, room["id"], role, extra, decode=False)
                assert refused.value.response.status_code == 409
                assert f"{role}s" in refused.value.response.json()["error"]["message"]
            info = (await http.get(f"{url}/rooms/{room['id']}")).json()
            assert len(info["participants"]) == 3
            for peer in peers:
                await peer.close()
