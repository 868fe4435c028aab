"""A peer on a slow link or a busy machine stays in its room; only a vanished one is dropped
(ICE consent freshness, ``media/consent.py``), on loopback with a real aiortc listener."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from clients.rtc import EventLog, join
from server.settings import RoomSettings
from tests.serving import serve_podium

TIMEOUT = 3.0  # the room's peer_timeout


async def test_a_peer_that_answers_late_stays_and_one_that_vanishes_is_dropped(
    tmp_path: Path,
) -> None:
    with serve_podium(tmp_path, rooms=RoomSettings(peer_timeout=TIMEOUT)) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Slow links"})).json()
            log = EventLog(http, url, room["id"])
            slow = await join(http, url, room["id"], "listener", decode=False)
            await slow.connected()
            slow.answer_late(0.8)
            await slow.wait_until(time.monotonic() + 2 * TIMEOUT)  # the room still sends to it
            assert log.of("participant_left") == []
            info = (await http.get(f"{url}/rooms/{room['id']}")).json()
            assert [p["id"] for p in info["participants"]] == [slow.participant_id]
            gone = time.monotonic()
            slow.vanish()
            await log.wait_for("participant_left", timeout=4 * TIMEOUT, id=slow.participant_id)
            # The last answer came at most a check's interval (0.9 s) before it vanished.
            assert time.monotonic() - gone >= TIMEOUT - 1.0
            await slow.pc.close()
            await log.close()
