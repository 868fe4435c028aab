"""An answer slow to start says where it waits (a real room on loopback, its own words),
and still comes."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from clients.rtc import EventLog
from server.rooms import conversation
from tests.serving import serve_podium


async def test_an_answer_slow_to_start_is_logged_with_the_step_it_waits_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(conversation, "SLOW_ANSWER", 0.0)  # every answer is "slow"
    caplog.set_level(logging.WARNING, logger=conversation.__name__)
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Trams"})).json()
            log = EventLog(http, url, room["id"])
            await log.wait_for("subscribed")
            said = await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Mei, why?"})
            assert said.status_code == 202, said.text
            [turn] = await log.wait_for("turn_started", timeout=20)
            assert turn["agent"] == "mei", "the answer comes all the same"
            said = await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Shuai?"})
            assert said.status_code == 202, said.text
            await log.wait_for("turn_started", count=2, timeout=20)
            await log.close()
    warned = [r.getMessage() for r in caplog.records if r.name == conversation.__name__]
    assert warned[0] == "guest's utterance is not answered after 0 s: starting mei's answer"
    assert warned[1].startswith(
        "guest's utterance is not answered after 0 s: canceling the reply it supersedes (mei, "
    ), warned
