"""End-to-end voice latency on loopback with the offline engines, and outbound pacing.

e2e latency = first audible agent frame received by a loopback aiortc client - the labelled
end of the person's speech (the industry's "agent started speaking - user stopped speaking").
Rooms run concurrently (one speaker each). Pacing: inter-arrival of the frames a listener
receives during a running debate (20 ms nominal).

The server runs in its own process with the default offline engines and the demo brain
(streaming 30 words/s, like a hosted LLM); the clients share this process.

The clips: the three read sentences (``--clips read``, the default: two of them stop where
the book goes on), or the fixtures' spoken commands, which end where they stop (``--clips
commands``: "go forward ten meters", "seven of clubs").

Usage: python benchmarks/voice_latency.py [--rooms 3] [--repeats 2] [--clips read]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

import httpx
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from clients.fixtures import Labelled, labelled_speech, spoken_commands
from clients.launch import podium_process
from clients.rtc import EventLog, join
from clients.tracks import ScriptedTrack

STAGES = ("speech_stopped", "final_transcript", "turn_started", "words_played")
Breakdown = list[dict[str, float]]


def stages(log: EventLog, speech_end_wall: float) -> dict[str, float]:
    """Server event times (wall clock, same host) after the labelled speech end, in ms."""
    out = {}
    for kind in STAGES:
        found = log.of(kind)
        if found:
            out[kind] = (found[0]["t"] - speech_end_wall) * 1000
    return out


async def one_turn(
    http: httpx.AsyncClient, url: str, clip: Labelled, breakdown: Breakdown, verbose: bool
) -> float | None:
    room = (await http.post(f"{url}/rooms", json={"topic": "Latency"})).json()
    log = EventLog(http, url, room["id"])
    track = ScriptedTrack(clip.pcm, lead=0.5)
    peer = await join(http, url, room["id"], "speaker", track)
    try:
        await log.wait_for("turn_started", timeout=60)
        await asyncio.sleep(1.5)
        assert track.speech_started_at is not None
        speech_end = track.speech_started_at + clip.offset
        wall_offset = time.time() - asyncio.get_running_loop().time()
        breakdown.append(stages(log, speech_end + wall_offset))
        heard = peer.first_loud_after(speech_end)
        if verbose:
            finals = [e["text"] for e in log.of("final_transcript")]
            late = None if heard is None else round((heard - speech_end) * 1000)
            print(f"  {clip.name}: heard +{late} ms; {breakdown[-1]}; {finals}")
        return None if heard is None else heard - speech_end
    finally:
        await peer.close()
        await log.close()
        await http.delete(f"{url}/rooms/{room['id']}")


async def pacing(http: httpx.AsyncClient, url: str, seconds: float) -> np.ndarray:
    body = {"topic": "Pacing", "debate": True, "rounds": 2}
    room = (await http.post(f"{url}/rooms", json=body)).json()
    peer = await join(http, url, room["id"], "listener")
    await asyncio.sleep(seconds)
    gaps = np.diff(np.asarray(peer.arrivals[10:])) * 1000
    await peer.close()
    await http.delete(f"{url}/rooms/{room['id']}")
    return gaps


async def main(rooms: int, repeats: int, verbose: bool, clips: str) -> None:
    spoken = (
        labelled_speech()
        if clips == "read"
        else [command.labelled() for command in spoken_commands()]
    )
    with podium_process() as (url, _):
        async with httpx.AsyncClient(timeout=30) as http:
            latencies: list[float] = []
            breakdown: Breakdown = []
            for repeat in range(repeats):
                turns = [spoken[(repeat * rooms + i) % len(spoken)] for i in range(rooms)]
                results = await asyncio.gather(
                    *(one_turn(http, url, clip, breakdown, verbose) for clip in turns)
                )
                latencies += [r for r in results if r is not None]
            ms = np.asarray(latencies) * 1000
            print(f"e2e latency (speech end -> first audible agent frame), {rooms} rooms at once,")
            print(
                f"  end-of-turn silence included: p50 {np.percentile(ms, 50):.0f} ms, "
                f"p95 {np.percentile(ms, 95):.0f} ms, max {np.max(ms):.0f} ms, n={len(ms)}"
            )
            medians = {k: np.median([b[k] for b in breakdown if k in b]) for k in STAGES}
            print(
                "  server events after speech end (median): "
                + ", ".join(f"{k} +{v:.0f} ms" for k, v in medians.items())
            )
            gaps = await pacing(http, url, 8.0)
            print(
                f"listener frame inter-arrival during a debate: p50 {np.percentile(gaps, 50):.1f}"
                f" ms, p99 {np.percentile(gaps, 99):.1f} ms, "
                f"within 20±5 ms: {np.mean(np.abs(gaps - 20) <= 5) * 100:.1f}%"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="each turn's figures")
    parser.add_argument("--clips", choices=["read", "commands"], default="read")
    args = parser.parse_args()
    asyncio.run(main(args.rooms, args.repeats, args.verbose, args.clips))
