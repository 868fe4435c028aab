"""The broadcast in a real browser: the page listens through HLS (Opus in MP4 through Media
Source Extensions) and hears the room a few seconds behind; a listener who finds the room's
live listeners full is moved to the broadcast."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from clients.rtc import EventLog
from server.settings import RoomSettings
from tests.browser.test_page import CHROMIUM, new_page, playwright_api
from tests.serving import serve_podium

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="system Chromium not found (apt-get install chromium; .ci/run installs it)",
)


async def plays(page: object, seconds: float) -> None:
    """Waits until the page's audio has played ``seconds`` of the broadcast."""
    await page.wait_for_function(  # type: ignore[attr-defined]
        "(s) => { const a = document.getElementById('room-audio');"
        " return !a.paused && a.currentTime - a.buffered.start(0) > s; }",
        arg=seconds,
        timeout=20000,
    )


async def test_the_page_listens_through_the_broadcast(chromium: object, tmp_path: Path) -> None:
    with serve_podium(tmp_path / "data") as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Beacons"})).json()
            page = await new_page(chromium, f"{url}/?room={room['id']}")
            await page.get_by_role("button", name="Listen to the broadcast").click()  # type: ignore[attr-defined]
            connection = page.locator("#connection")  # type: ignore[attr-defined]
            await playwright_api.expect(connection).to_contain_text("broadcast", timeout=20000)
            log = EventLog(http, url, room["id"])
            await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Mei, go on."})
            await log.wait_for("turn_ended", timeout=60)
            await plays(page, 1.5)
            stats = await page.evaluate("() => window.podium.stats()")  # type: ignore[attr-defined]
            assert stats["broadcast"] and stats["bytesReceived"] > 10_000
            assert page.errors == []  # type: ignore[attr-defined]
            await log.close()


async def test_a_full_room_moves_a_listener_to_the_broadcast(
    chromium: object, tmp_path: Path
) -> None:
    with serve_podium(tmp_path / "data", rooms=RoomSettings(max_listeners=0)) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Crowds"})).json()
        page = await new_page(chromium, f"{url}/?room={room['id']}")
        await page.get_by_role("button", name="Listen only").click()  # type: ignore[attr-defined]
        transcript = page.locator("#transcript")  # type: ignore[attr-defined]
        await playwright_api.expect(transcript).to_contain_text(
            "full for live listeners", timeout=20000
        )
        connection = page.locator("#connection")  # type: ignore[attr-defined]
        await playwright_api.expect(connection).to_contain_text("broadcast", timeout=20000)
        await plays(page, 1.0)
        assert page.errors == []  # type: ignore[attr-defined]
