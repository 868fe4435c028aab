"""Rooms belong to their owner; a share link lets an audience listen (or speak) without an
API key, and nothing more. Real server on loopback, raw HTTP, SSE and WebSockets."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import websockets

from server.auth.links import RoomLinks, load_secret
from server.settings import ApiKey, AuthSettings
from tests.serving import serve_podium
from tests.sse import read_events

ALICE, BOB = "alice-key-0123456789abcdef", "bob-key-0123456789abcdef01"
KEYS = AuthSettings(api_keys=[ApiKey(name="alice", key=ALICE), ApiKey(name="bob", key=BOB)])


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def closed_with(url: str) -> int:
    async with websockets.connect(url) as socket:
        try:
            while True:
                await socket.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006


async def test_owner_guests_and_strangers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serve_podium(data, auth=KEYS) as url:
        ws = url.replace("http", "ws")
        async with httpx.AsyncClient(timeout=10) as http:
            created = await http.post(
                f"{url}/rooms", json={"topic": "Trains or planes?"}, headers=bearer(ALICE)
            )
            assert created.status_code == 201
            room = created.json()
            room_id = room["id"]
            links = {link["grant"]: link for link in room["links"]}
            assert set(links) == {"listen", "speak"}
            assert links["listen"]["url"].startswith(f"/?room={room_id}&token=")
            listen, speak = links["listen"]["token"], links["speak"]["token"]

            # A stranger with a key of their own does not see the room.
            assert (await http.get(f"{url}/rooms", headers=bearer(BOB))).json() == []
            for method, path in [
                ("GET", ""),
                ("GET", "/ice-servers"),
                ("DELETE", ""),
                ("POST", "/debate"),
                ("GET", "/events"),
                ("POST", "/links"),
            ]:
                answer = await http.request(
                    method, f"{url}/rooms/{room_id}{path}", headers=bearer(BOB), json={}
                )
                assert answer.status_code == 404, (method, path)
            owned = (await http.get(f"{url}/rooms", headers=bearer(ALICE))).json()
            assert [r["id"] for r in owned] == [room_id]

            # A listening guest: the room, its events, its ICE servers, nothing else.
            guest = bearer(listen)
            assert (await http.get(f"{url}/rooms/{room_id}", headers=guest)).status_code == 200
            ice = await http.get(f"{url}/rooms/{room_id}/ice-servers", headers=guest)
            assert ice.status_code == 200 and ice.json()["ice_transport_policy"] == "all"
            async with http.stream(
                "GET", f"{url}/rooms/{room_id}/events?access_token={listen}"
            ) as events:
                first = await read_events(events, limit=1)
            assert first and json.loads(first[0].data)["type"] == "subscribed"
            assert [r["id"] for r in (await http.get(f"{url}/rooms", headers=guest)).json()] == [
                room_id
            ]
            for method, path, body in [
                ("DELETE", f"/rooms/{room_id}", None),
                ("POST", f"/rooms/{room_id}/debate", {}),
                ("POST", f"/rooms/{room_id}/links", {"grant": "speak"}),
                ("POST", f"/rooms/{room_id}/say", {"text": "hello"}),
                ("POST", f"/rooms/{room_id}/offer", {"sdp": "v=0\r\nm=audio", "role": "speaker"}),
                ("POST", "/rooms", {"topic": "mine now"}),
                ("GET", "/rooms/another", None),
                ("POST", "/stream", {"text": "hi"}),
                ("GET", "/agents/mei/tasks", None),
            ]:
                answer = await http.request(method, f"{url}{path}", json=body, headers=guest)
                assert answer.status_code == 403, (method, path)
            speaker_socket = f"{ws}/rooms/{room_id}/audio?role=speaker&access_token={listen}"
            assert await closed_with(speaker_socket) == 4403
            async with websockets.connect(
                f"{ws}/rooms/{room_id}/audio?role=listener&access_token={listen}"
            ) as socket:
                assert '"joined"' in str(await socket.recv())

            # A speaking guest may also talk.
            said = await http.post(
                f"{url}/rooms/{room_id}/say", json={"text": "Trains!"}, headers=bearer(speak)
            )
            assert said.status_code == 202
            assert (
                await http.delete(f"{url}/rooms/{room_id}", headers=bearer(speak))
            ).status_code == 403

            # Links that expired or were tampered with prove nothing.
            signer = RoomLinks(load_secret("", data), clock=lambda: time.time() - 7200)
            expired, _ = signer.issue(room_id, "listen", 60)
            forged = listen[:-4] + ("AAAA" if not listen.endswith("AAAA") else "BBBB")
            foreign, _ = RoomLinks("another server's secret, long enough to be one").issue(
                room_id, "listen", 60
            )
            for token in (expired, forged, foreign):
                answer = await http.get(f"{url}/rooms/{room_id}", headers=bearer(token))
                assert answer.status_code == 401
            assert await closed_with(f"{ws}/rooms/{room_id}/ws?access_token={expired}") == 4401

            # The owner makes a fresh link, and deletes the room.
            fresh = await http.post(
                f"{url}/rooms/{room_id}/links",
                json={"grant": "listen", "ttl": 60},
                headers=bearer(ALICE),
            )
            assert fresh.status_code == 201 and fresh.json()["expires"] <= time.time() + 61
            gone = await http.delete(f"{url}/rooms/{room_id}", headers=bearer(ALICE))
            assert gone.status_code == 204
            after = await http.get(f"{url}/rooms/{room_id}", headers=bearer(listen))
            assert after.status_code == 404


async def test_without_authentication_a_room_is_its_own_link(podium: str) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        room = (await http.post(f"{podium}/rooms", json={"topic": "Open house"})).json()
        assert {link["url"] for link in room["links"]} == {f"/?room={room['id']}"}
        assert (await http.get(f"{podium}/rooms/{room['id']}")).status_code == 200
