"""Recordings in a real browser: everyone in a recorded room sees that it is recorded, and a
recording plays back in Chromium with its transcript beside it, the words being heard
highlighted and a click on a line seeking to it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from clients.rtc import EventLog
from server.settings import RecordingSettings
from tests.browser.test_page import CHROMIUM, new_page, playwright_api, shot
from tests.serving import serve_podium

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="system Chromium not found (apt-get install chromium; .ci/run installs it)",
)


async def test_a_recorded_room_says_so_and_its_recording_replays_with_the_transcript(
    chromium: object, tmp_path: Path
) -> None:
    fast = RecordingSettings(store_seconds=0.3)
    with serve_podium(tmp_path / "data", recordings=fast) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Kites", "record": True})).json()
            page = await new_page(chromium, f"{url}/?room={room['id']}")
            badge = page.locator("#recording-badge")  # type: ignore[attr-defined]
            await playwright_api.expect(badge).to_be_visible(timeout=10000)
            await playwright_api.expect(badge).to_contain_text("your voice")
            log = EventLog(http, url, room["id"])
            await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Mei, go on."})
            await log.wait_for("turn_ended", timeout=60)
            await page.get_by_role("button", name="Stop recording").click()  # type: ignore[attr-defined]
            await playwright_api.expect(badge).to_be_hidden(timeout=10000)
            await log.close()

            lobby = await new_page(chromium, url)
            await lobby.get_by_role("link", name="Play").click()  # type: ignore[attr-defined]
            lines = lobby.locator("#replay-transcript li")  # type: ignore[attr-defined]
            await playwright_api.expect(lines).to_have_count(2, timeout=10000)
            await lobby.wait_for_function(  # type: ignore[attr-defined]
                "() => document.getElementById('replay-audio').readyState >= 1"
            )
            recording = (await http.get(f"{url}/recordings")).json()[0]
            duration = await lobby.evaluate(  # type: ignore[attr-defined]
                "() => document.getElementById('replay-audio').duration"
            )
            assert abs(duration - recording["duration"]) < 0.2, (duration, recording)
            agent_line = lines.nth(1)
            await agent_line.click()
            start = float(await agent_line.get_attribute("data-start"))
            at = await lobby.evaluate(  # type: ignore[attr-defined]
                "() => document.getElementById('replay-audio').currentTime"
            )
            assert abs(at - start) < 0.5, (at, start)
            highlighted = lobby.locator("#replay-transcript .heard-now")  # type: ignore[attr-defined]
            await playwright_api.expect(highlighted).to_have_count(1, timeout=10000)
            links = lobby.locator("#replay-downloads a")  # type: ignore[attr-defined]
            await playwright_api.expect(links).to_have_count(3)
            await shot(lobby, "replay")
            assert page.errors == [] and lobby.errors == []  # type: ignore[attr-defined]
