"""Turn-taking figures on loopback with a real aiortc client and the speech fixtures.

barge-in   a client speaks a fixture over a debater's voice turn; latency = the labelled
           speech onset → the first frame the client receives after which the agent stays
           silent (client jitter buffer: aiortc's, 1 packet on our side); the server-internal
           figure (VAD onset → ducked frame handed to the encoder) comes from the room's stats.
noise      white noise, clicks and pink noise played over agent turns; any duck is a false
           barge-in.
debate     voice debates: the gap between one debater's last word and the next one's first,
           and the overlap when one cuts in on the other (room stats, measured in the mixer).

The server runs in its own process; the clients share this one.

Usage: python benchmarks/bargein.py [--rooms 3] [--cycles 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from clients.fixtures import labelled_speech, noise
from clients.launch import podium_process
from clients.rtc import EventLog, Peer, join
from clients.tracks import CueTrack

QUIET = 500


def ducked_at(peer: Peer, onset: float, hold: float = 0.3) -> float | None:
    """The arrival time of the first quiet frame after ``onset`` that starts ``hold`` s of
    quiet (the agent's natural pauses between words are shorter)."""
    pairs = zip(peer.received, peer.arrivals, strict=True)
    frames = [(at, int(np.abs(f).max())) for f, at in pairs]
    for index, (at, _) in enumerate(frames):
        if at < onset:
            continue
        window = [level for t, level in frames[index:] if t <= at + hold]
        if window and all(level < QUIET for level in window) and frames[-1][0] >= at + hold:
            return at
    return None


WAITS = (0.35, 0.8, 1.25)  # seconds into the agent's turn (after its third word) to barge in


async def barge_ins(
    http: httpx.AsyncClient, url: str, cycles: int, seed: int
) -> tuple[list[tuple[str, float]], dict[str, Any]]:
    """``cycles`` barge-ins in one room, walking every fixture and several onsets into the
    agent's turn; returns (fixture, client-heard latency) pairs and the room's stats."""
    clips = labelled_speech()
    room = (await http.post(f"{url}/rooms", json={"topic": "Trams"})).json()
    log = EventLog(http, url, room["id"])
    track = CueTrack()
    peer = await join(http, url, room["id"], "speaker", track, name=f"p{seed}")
    await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Mei, why trams?"})
    latencies: list[tuple[str, float]] = []
    seen: set[str] = set()
    try:
        for cycle in range(cycles):
            turn = await next_turn(http, url, room["id"], log, seen)
            await log.wait_for("words_played", count=3, task_id=turn, timeout=30)
            await asyncio.sleep(WAITS[(seed + cycle // len(clips)) % len(WAITS)])
            clip = clips[(seed + cycle) % len(clips)]
            track.play(clip.pcm, clip.onset)
            await log.wait_until(lambda events, t=turn: ended_or_cut(events, t), timeout=30)
            if not log.of("interrupted") or log.of("interrupted")[-1]["task_id"] != turn:
                what = [
                    (e["type"], e.get("reason") or e.get("text"))
                    for e in log.events
                    if e["type"] in ("ducked", "resumed", "final_transcript", "turn_ended")
                ][-4:]
                print(f"  room {seed}: {clip.name[-4:]} did not cut in: {what}")
                continue
            await asyncio.sleep(0.6)
            assert track.onset_at is not None
            heard = ducked_at(peer, track.onset_at)
            if heard is not None:
                latencies.append((clip.name[-4:], heard - track.onset_at))
            await log.wait_for("speech_stopped", count=cycle + 1, timeout=30)
        info = (await http.get(f"{url}/rooms/{room['id']}")).json()
        return latencies, info["stats"]
    finally:
        await peer.close()
        await log.close()


def ended_or_cut(events: list[dict[str, Any]], task_id: str) -> bool:
    return any(
        e["type"] in ("interrupted", "turn_ended") and e.get("task_id") == task_id for e in events
    )


async def next_turn(
    http: httpx.AsyncClient, url: str, room_id: str, log: EventLog, seen: set[str]
) -> str:
    """The next agent turn: the answer to the last barge-in, or one asked for."""
    for _ in range(3):
        try:
            await log.wait_until(
                lambda events: any(
                    e["type"] == "turn_started" and e["task_id"] not in seen for e in events
                ),
                timeout=15,
            )
            break
        except TimeoutError:
            await http.post(f"{url}/rooms/{room_id}/say", json={"text": "Mei, go on."})
    fresh = [e["task_id"] for e in log.of("turn_started") if e["task_id"] not in seen]
    seen.update(fresh)
    return str(fresh[-1])


async def noise_over_turns(http: httpx.AsyncClient, url: str) -> int:
    room = (await http.post(f"{url}/rooms", json={"topic": "Noise"})).json()
    log = EventLog(http, url, room["id"])
    track = CueTrack()
    peer = await join(http, url, room["id"], "speaker", track, name="noisy")
    try:
        for index, kind in enumerate(("white", "loud-white", "clicks", "pink")):
            await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Shuai, costs?"})
            [turn] = (await log.wait_for("turn_started", count=index + 1, timeout=60))[-1:]
            await log.wait_for("words_played", count=2, task_id=turn["task_id"], timeout=30)
            track.play(noise(kind, 3.0))
            await asyncio.sleep(3.2)
        return len(log.of("ducked"))
    finally:
        await peer.close()
        await log.close()


async def debate(
    http: httpx.AsyncClient, url: str, topic: str, interruptions: int | None
) -> dict[str, Any]:
    body = {"topic": topic, "debate": True, "rounds": 2, "interruptions": interruptions}
    room = (await http.post(f"{url}/rooms", json=body)).json()
    log = EventLog(http, url, room["id"])
    peer = await join(http, url, room["id"], "listener")
    try:
        await log.wait_for("debate_finished", timeout=240)
        stats: dict[str, Any] = (await http.get(f"{url}/rooms/{room['id']}")).json()["stats"]
        return stats
    finally:
        await peer.close()
        await log.close()


def figures(values_ms: list[float]) -> str:
    if not values_ms:
        return "n=0"
    array = np.asarray(values_ms)
    p50, p95 = np.percentile(array, 50), np.percentile(array, 95)
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {array.max():.0f} ms, n={len(array)}"


async def main(rooms: int, cycles: int) -> None:
    with podium_process() as (url, _):
        async with httpx.AsyncClient(timeout=30) as http:
            results = await asyncio.gather(*(barge_ins(http, url, cycles, i) for i in range(rooms)))
            heard = [(name, ms * 1000) for pairs, _ in results for name, ms in pairs]
            print(
                f"barge-in, {rooms} rooms at once, client-heard onset -> ducked: "
                f"{figures([ms for _, ms in heard])}"
            )
            for name in sorted({name for name, _ in heard}):
                print(f"  fixture {name}: {figures([ms for n, ms in heard if n == name])}")
            for key in ("vad_onset_ms", "bargein_ms"):
                merged = [stats[key] for _, stats in results if key in stats]
                print(f"  server {key[:-3]} per room: {merged}")
            false_barge_ins, *debates = await asyncio.gather(
                noise_over_turns(http, url),
                debate(http, url, "Cars", 0),  # no interruptions: turn gaps
                debate(http, url, "Trams", None),  # the default budget: overlaps
            )
            print(f"false barge-ins on noise over 4 agent turns: {false_barge_ins}")
            for name in ("turn_gap_ms", "overlap_ms"):
                for stats in debates:
                    if name in stats:
                        print(f"debate {name[:-3]}: {stats[name]}")
            kinds = {k: v for s in debates for k, v in s.items() if k.startswith("interruptions")}
            print(f"debate interruptions: {kinds}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=3)
    parser.add_argument("--cycles", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.rooms, args.cycles))
