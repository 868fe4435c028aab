"""The scenario corpus (``clients/scenarios.py``): scripted conversations against real rooms
on loopback, each held to what a person would expect (ducked or not, interrupted or resumed,
answered or not).

Every scenario is its own test case (``-k two-people-at-once`` reruns one alone). The scenarios
selected in a session run at once, each in a room of its own on one server (in its own
process) with the offline engines (one run of the corpus costs what its longest scenario
does); each case then reads its own outcome. The run has a hard deadline in its own thread,
so a scenario that never ends fails its case instead of holding the suite up.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from clients.scenarios import CORPUS, Outcome, Scenario, run
from tests.serving import podium_process

SCENARIO_SECONDS = 150.0  # one scenario, start to end, on a loaded two-core machine
RUN_SECONDS = SCENARIO_SECONDS + 30.0  # the whole concurrent run, cleanup included

pytestmark = pytest.mark.timeout(RUN_SECONDS + 60)

Result = Outcome | BaseException


async def _run_one(http: httpx.AsyncClient, url: str, scenario: Scenario) -> Result:
    try:
        return await asyncio.wait_for(run(http, url, scenario), SCENARIO_SECONDS)
    except Exception as error:  # reported by this scenario's own case
        return error


async def _run_all(url: str, chosen: list[Scenario]) -> dict[str, Result]:
    async with httpx.AsyncClient(timeout=30) as http:
        results = await asyncio.gather(*(_run_one(http, url, s) for s in chosen))
    return {s.name: r for s, r in zip(chosen, results, strict=True)}


def _in_thread(url: str, chosen: list[Scenario]) -> dict[str, Result]:
    """Runs the scenarios in a loop of their own; past the deadline every case fails."""
    results: dict[str, Result] = {}

    def main() -> None:
        try:
            results.update(asyncio.run(_run_all(url, chosen)))
        except BaseException as error:  # each case reports it
            results.update({s.name: error for s in chosen})

    thread = threading.Thread(target=main, name="scenarios", daemon=True)
    thread.start()
    thread.join(RUN_SECONDS)
    if thread.is_alive():  # a daemon thread: left behind, it cannot hold the suite up
        late = TimeoutError(f"the scenario run did not end within {RUN_SECONDS:.0f} s")
        return {s.name: results.get(s.name, late) for s in chosen}
    return results


@dataclass
class Run:
    results: dict[str, Result]
    log: list[str] = field(default_factory=list)  # what the run logged, for a failure


def _notable(line: str) -> bool:
    """A server log line worth showing with a failure: a warning or worse, or a peer closed
    for want of consent."""
    return line.startswith(("WARNING", "ERROR", "CRITICAL")) or "consent" in line


@pytest.fixture(scope="module")
def run_all(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    """The outcome of every scenario selected in this session, run at once. The server runs
    in its own process, as it would for people in their browsers: the scenario peers and
    the rooms do not share one interpreter lock."""
    selected = {
        item.callspec.params["scenario"].name
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    }
    chosen = [s for s in CORPUS if s.name in selected]
    data: Path = tmp_path_factory.mktemp("scenarios")
    log = data / "server.log"
    rooms = str(max(1, len(chosen)))
    with podium_process(
        data, log=log, PODIUM_ROOMS__MAX_ROOMS=rooms, PODIUM_DEBATE__TEXT_WPM="0"
    ) as (url, _):
        results = _in_thread(url, chosen)
    lines = log.read_text(errors="replace").splitlines()
    yield Run(results, [line for line in lines if _notable(line)])


def _case_id(scenario: Scenario) -> str:
    return re.sub(r"[^a-z0-9]+", "-", scenario.name.lower()).strip("-")


@pytest.mark.parametrize("scenario", CORPUS, ids=[_case_id(s) for s in CORPUS])
def test_scenario_ends_as_a_person_would_expect(scenario: Scenario, run_all: Run) -> None:
    outcome = run_all.results[scenario.name]
    logged = "\n".join(run_all.log[-40:])
    if isinstance(outcome, BaseException):
        raise AssertionError(f"{scenario.name} did not run to its end; logged:\n{logged}") from (
            outcome
        )
    misses = outcome.misses(scenario.expect)
    assert misses == [], (
        f"{misses}; heard {outcome.heard}; story {outcome.story}; logged:\n{logged}"
    )
