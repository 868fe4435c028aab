"""The scenario corpus (``clients/scenarios.py``): scripted conversations against real rooms
on loopback, all at once on one server with the offline engines, each held to what a person
would expect (ducked or not, interrupted or resumed, answered or not)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from clients.scenarios import CORPUS, run
from tests.serving import serve_podium


async def test_every_scenario_ends_as_a_person_would_expect(tmp_path: Path) -> None:
    with serve_podium(tmp_path, max_rooms=len(CORPUS)) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            outcomes = await asyncio.gather(*(run(http, url, s) for s in CORPUS))
    broken = {
        scenario.name: (misses, outcome.heard, outcome.story)
        for scenario, outcome in zip(CORPUS, outcomes, strict=True)
        if (misses := outcome.misses(scenario.expect))
    }
    assert broken == {}
