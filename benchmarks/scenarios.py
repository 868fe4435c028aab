"""The scenario corpus (``clients/scenarios.py``) as figures: every scenario ``--repeats``
times, rooms at once, the server in its own process with the offline engines.

Reports per scenario how often it ended as expected, and over the corpus: false barge-ins
(a debater ducked or cut where no one meant to take the floor), missed barge-ins (a person
talked over a debater and it went on), and overlap per interruption (a person's: the server's
part, detected → ducked on the wire, ``bargein.py`` has the client-heard figure; a debater's
cut-in: the trailing overlap in the mix).

Usage: python benchmarks/scenarios.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import httpx
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from clients.launch import podium_process
from clients.scenarios import CORPUS, Outcome, Scenario, run


def _p(values: list[float]) -> str:
    if not values:
        return "n=0"
    p50, p95 = np.percentile(values, [50, 95])
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, n={len(values)}"


async def main(repeats: int, only: str | None) -> None:
    corpus = [s for s in CORPUS if only is None or only in s.name]
    env = {"PODIUM_ROOMS__MAX_ROOMS": str(len(CORPUS))}
    with podium_process(env=env) as (url, _):
        async with httpx.AsyncClient(timeout=30) as http:
            results: list[tuple[Scenario, Outcome]] = []
            for _ in range(repeats):
                outcomes = await asyncio.gather(*(run(http, url, s) for s in corpus))
                results += zip(corpus, outcomes, strict=True)
    false = missed = quiet = talked = 0
    bargein: list[float] = []
    overlap: list[float] = []
    for scenario in corpus:
        mine = [o for s, o in results if s is scenario]
        good = sum(not o.misses(scenario.expect) for o in mine)
        print(f"{scenario.name:24} as expected {good}/{len(mine)}")
        for outcome in mine:
            if outcome.misses(scenario.expect):
                print(f"  {outcome.misses(scenario.expect)} heard {outcome.heard}")
                print(f"  events: {outcome.story}")
    for scenario, outcome in results:
        if scenario.debate:
            if "overlap_ms" in outcome.stats:
                overlap.append(outcome.stats["overlap_ms"]["p50"])
            continue
        if scenario.expect.interrupted is False:
            quiet += 1
            false += outcome.interrupted or (scenario.expect.ducked is False and outcome.ducked)
        if scenario.expect.interrupted:
            talked += 1
            missed += not outcome.interrupted
            if "bargein_ms" in outcome.stats:
                bargein.append(outcome.stats["bargein_ms"]["p50"])
    print(f"false barge-ins: {false}/{quiet} scenarios where no one took the floor")
    print(f"missed barge-ins: {missed}/{talked} scenarios where a person did")
    print(f"server part of a person's interruption (detected -> ducked on the wire): {_p(bargein)}")
    print(f"overlap per debater's cut-in (trailing voice in the mix): {_p(overlap)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", help="the scenarios whose name holds this")
    args = parser.parse_args()
    asyncio.run(main(args.repeats, args.only))
