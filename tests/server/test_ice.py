"""ICE on real parts: the default contacts no STUN/TURN server; a real coturn relays a room's
voice both ways with credentials Podium mints per join; a wrong secret, an unreachable TURN
server and bad settings fail with a reason, bounded in time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from clients.fixtures import labelled_speech
from clients.rtc import EventLog, Peer, join
from clients.tracks import ScriptedTrack
from server.app import create_app
from server.settings import AuthSettings, Settings
from server.webrtc import WebRtcSettings
from tests.serving import free_port, podium_settings, serve_app, serve_podium
from tests.turn import needs_coturn, turn_server

KEY = "ice-test-key-0123456789abcdef"


def candidate_types(sdp: str) -> set[str]:
    return {line.split(" typ ")[1].split()[0] for line in sdp.splitlines() if " typ " in line}


def server_peer_connections(app_rooms: object) -> list[object]:
    """Each server-side ICE connection (aioice) of every participant of every room."""
    found = []
    for room in app_rooms.all():  # type: ignore[attr-defined]
        for participant in room.participants:
            for transceiver in participant.peer.pc.getTransceivers():
                found.append(transceiver.sender.transport.transport.iceGatherer._connection)
    return found


async def test_by_default_only_host_candidates_and_no_server_is_contacted(
    tmp_path: Path,
) -> None:
    port = free_port()
    app = create_app(podium_settings(tmp_path, port))
    with serve_app(app, port) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Quiet networks"})).json()
            servers = await http.get(f"{url}/rooms/{room['id']}/ice-servers")
            assert servers.json() == {"ice_servers": [], "ice_transport_policy": "all"}
            assert servers.headers["cache-control"] == "no-store"
            peer = await join(http, url, room["id"], "listener")
            try:
                assert candidate_types(peer.pc.remoteDescription.sdp) == {"host"}
                connections = server_peer_connections(app.state.rooms)
                assert connections, "the server has a peer for the listener"
                for connection in connections:  # aiortc's built-in public STUN host is not used
                    assert connection.stun_server is None and connection.turn_server is None
            finally:
                await peer.close()
            unknown = await http.get(f"{url}/rooms/nope/ice-servers")
            assert unknown.status_code == 404


def settings_error(**webrtc: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(webrtc=webrtc)
    return str(caught.value)


def test_bad_webrtc_settings_are_refused_with_the_reason() -> None:
    assert "not a STUN or TURN URL" in settings_error(
        ice_servers=[{"urls": ["http://turn.example.com"]}]
    )
    assert "transport must be udp or tcp" in settings_error(
        turn_urls=["turn:t.example.com:3478?transport=sctp"], turn_secret="s" * 20
    )
    assert "needs a username and a credential" in settings_error(
        ice_servers=[{"urls": "turn:t.example.com"}]
    )
    assert "needs webrtc.turn_secret" in settings_error(turn_urls=["turn:t.example.com"])
    assert "not a TURN URL" in settings_error(
        turn_urls=["stun:t.example.com"], turn_secret="s" * 20
    )
    assert "needs a TURN server" in settings_error(
        ice_servers=[{"urls": "stun:s.example.com"}], ice_transport_policy="relay"
    )
    assert "ice_transport_policy" in settings_error(ice_transport_policy="nothing")


def test_turn_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    urls = '["turn:t.example.com:3478?transport=udp","turns:t.example.com:5349?transport=tcp"]'
    monkeypatch.setenv("PODIUM_WEBRTC__TURN_URLS", urls)
    monkeypatch.setenv("PODIUM_WEBRTC__TURN_SECRET", "a-secret-of-enough-length")
    webrtc = Settings().webrtc
    assert webrtc.turn_urls == [
        "turn:t.example.com:3478?transport=udp",
        "turns:t.example.com:5349?transport=tcp",
    ]
    assert webrtc.turn_ttl == 3600 and webrtc.ice_transport_policy == "all"


def relay_settings(port: int, secret: str) -> WebRtcSettings:
    return WebRtcSettings(
        turn_urls=[f"turn:127.0.0.1:{port}?transport=udp"],
        turn_secret=secret,
        ice_transport_policy="relay",
    )


@needs_coturn
async def test_voice_both_ways_through_coturn_with_minted_credentials(tmp_path: Path) -> None:
    clip = labelled_speech()[1]
    with turn_server() as turn:
        webrtc = relay_settings(turn.port, turn.secret)
        auth = AuthSettings(api_keys=[{"name": "ann", "key": KEY}])
        with serve_podium(tmp_path, webrtc=webrtc, auth=auth) as url:
            headers = {"authorization": f"Bearer {KEY}"}
            async with httpx.AsyncClient(timeout=30, headers=headers) as http:
                room = (await http.post(f"{url}/rooms", json={"topic": "Relays"})).json()
                answer = (await http.get(f"{url}/rooms/{room['id']}/ice-servers")).json()
                assert answer["ice_transport_policy"] == "relay"
                [server] = answer["ice_servers"]
                assert server["urls"] == [turn.url]
                expiry, principal = server["username"].split(":")
                assert principal == "ann" and abs(int(expiry) - (time.time() + 3600)) < 60
                digest = hmac.new(turn.secret.encode(), server["username"].encode(), hashlib.sha1)
                assert server["credential"] == base64.b64encode(digest.digest()).decode()

                log = EventLog(http, url, room["id"])
                peers: list[Peer] = []
                try:
                    track = ScriptedTrack(clip.pcm, lead=0.6)
                    peers.append(await join(http, url, room["id"], "speaker", track, relay=True))
                    peers.append(await join(http, url, room["id"], "listener", relay=True))
                    for peer in peers:  # both ends offered and answered relay addresses only
                        assert candidate_types(peer.pc.localDescription.sdp) == {"relay"}
                        assert candidate_types(peer.pc.remoteDescription.sdp) == {"relay"}
                    [final] = await log.wait_for("final_transcript", timeout=30)
                    assert set(final["text"].split()) & set(clip.words.split()), final["text"]
                    for peer in peers:
                        await peer.wait_loud(20)  # the answer's voice came back through TURN
                finally:
                    await log.close()
                    for peer in peers:
                        await peer.close()


@needs_coturn
async def test_a_wrong_secret_or_an_unreachable_turn_server_fails_the_join_with_a_reason(
    tmp_path: Path,
) -> None:
    with turn_server() as turn:
        for port, secret, reason in [
            (turn.port, "not-the-secret-coturn-has", "credentials refused (401)"),
            (free_port(), turn.secret, "no answer"),
        ]:
            with serve_podium(tmp_path / str(port), webrtc=relay_settings(port, secret)) as url:
                async with httpx.AsyncClient(timeout=30) as http:
                    room = (await http.post(f"{url}/rooms", json={"topic": "Walls"})).json()
                    started = time.monotonic()
                    with pytest.raises(httpx.HTTPStatusError) as caught:
                        await join(http, url, room["id"], "listener")
                    assert time.monotonic() - started < 15, "a failing TURN server is bounded"
                    response = caught.value.response
                    assert response.status_code == 503
                    message = response.json()["error"]["message"]
                    assert "no relay address" in message
                    assert reason in message, message
