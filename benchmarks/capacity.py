"""Capacity the way an operator plans it: CPU and memory per room and per listener.

The server runs in its own process (`podium serve`, offline engines); CPU and RSS are read
from /proc for the server and its recognizer workers, apart from the load client (this
process, whose own CPU is printed too). Listeners are aiortc peers that only count packets
(no decoding), so one process can hold dozens. Each phase starts a fresh server:

  idle        no rooms
  debate      N rooms, each running a voice debate with one listener
  listeners   one debate room with 1, 10, 20, 40 listeners: the slope is the cost of one more
  speaker     N rooms, each a debate with one listener and a speaker who talks every few s

Pacing is measured at the listeners (packet inter-arrival) and at the server's send side
(the interval at which each participant's sender takes frames, from `GET /rooms/{id}`).
The last line says how many rooms and listeners two cores hold (at 80 % of both).

Usage: python benchmarks/capacity.py [--rooms 2] [--listeners 1 10 20 40] [--seconds 10]
       python benchmarks/capacity.py --baseline <checkout of another version> [--rounds 3]

With --baseline, the debate and speaker phases run for this version and the other in
alternating rounds (drift on the machine hits both alike) and print each one's per-room
cost, the median over rounds, side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import resource
import sys
import time
from dataclasses import dataclass

import httpx
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from clients.fixtures import labelled_speech
from clients.launch import podium_process
from clients.rtc import Peer, join
from clients.tracks import ScriptedTrack

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
WARM_UP = 3.0  # seconds for debates to start and recognizers to load
BUDGET = 160.0  # % of one core usable on two cores (80 % of each)


def process_tree(pid: int) -> list[int]:
    """The server and its speech recognition workers."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        children.append(int(entry))
            except OSError:
                continue
    return [pid, *children]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / TICKS


def rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            continue
    return total / 2**20


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Reading:
    cpu: float  # % of one core, server and workers
    workers: float  # % of one core, of that in the recognizer workers
    rss: float  # MiB
    client_cpu: float  # % of one core, this process
    gaps: np.ndarray  # ms between packets at the listeners
    send_p50: float  # ms, server send side
    send_p99: float
    stored: tuple[float, ...] = ()  # bytes per minute of each recording (recorded rooms)


class LoopingTrack(ScriptedTrack):
    """A speaker who says the fixture every few seconds."""

    def __init__(self, pcm: np.ndarray) -> None:
        pause = np.zeros(16000 * 3, np.int16)
        super().__init__(np.concatenate([pcm, pause] * 30), lead=0.5)


async def debate_room(http: httpx.AsyncClient, url: str, index: int, record: bool = False) -> str:
    body = {"topic": f"Capacity {index}", "debate": True, "rounds": 20, "record": record}
    response = await http.post(f"{url}/rooms", json=body)
    response.raise_for_status()
    return str(response.json()["id"])


async def measure(
    url: str, pid: int, http: httpx.AsyncClient, rooms: list[str], listeners: list[Peer], s: float
) -> Reading:
    await asyncio.sleep(WARM_UP)  # let the load settle before measuring it
    pids = process_tree(pid)
    start_cpu, start_own, start = cpu_seconds(pids), own_cpu(), time.monotonic()
    start_workers = cpu_seconds(pids[1:])
    marks = [len(peer.arrivals) for peer in listeners]
    await asyncio.sleep(s)  # the measured window
    elapsed = time.monotonic() - start
    cpu = (cpu_seconds(pids) - start_cpu) / elapsed * 100
    workers = (cpu_seconds(pids[1:]) - start_workers) / elapsed * 100
    client = (own_cpu() - start_own) / elapsed * 100
    gaps = [
        np.diff(np.asarray(p.arrivals[m:])) * 1000 for p, m in zip(listeners, marks, strict=True)
    ]
    send = [(await http.get(f"{url}/rooms/{room}")).json().get("send_pacing_ms") for room in rooms]
    p50 = float(np.median([x["p50"] for x in send if x])) if any(send) else float("nan")
    p99 = float(max(x["p99"] for x in send if x)) if any(send) else float("nan")
    all_gaps = np.concatenate(gaps) if gaps else np.zeros(0)
    return Reading(cpu, workers, rss_mib(pids), client, all_gaps, p50, p99)


def pacing(reading: Reading) -> str:
    if not len(reading.gaps):
        return ""
    p50, p99 = np.percentile(reading.gaps, [50, 99])
    return (
        f"; listeners p50 {p50:.1f} / p99 {p99:.1f} ms, server send p50 {reading.send_p50:.1f}"
        f" / p99 {reading.send_p99:.1f} ms"
    )


async def hls_listener(http: httpx.AsyncClient, url: str, room: str) -> None:
    """One broadcast listener: blocking playlist reloads, every new segment fetched."""
    live = await http.get(f"{url}/rooms/{room}/live.m3u8", follow_redirects=True)
    playlist, base = live.text, str(live.url).removesuffix("index.m3u8")
    await http.get(f"{base}init.mp4")
    fetched = -1
    while True:
        seqs = [int(x.split(".")[0]) for x in playlist.splitlines() if x.endswith(".m4s")]
        for seq in [s for s in seqs if s > fetched]:
            await http.get(f"{base}{seq}.m4s")
            fetched = seq
        reply = await http.get(f"{base}index.m3u8", params={"_HLS_msn": fetched + 1})
        playlist = reply.text


async def phase(
    rooms: int,
    listeners: int,
    speakers: bool,
    seconds: float,
    source: str | None = None,
    record: bool = False,
    broadcast: bool = False,
) -> Reading:
    limits = {"PODIUM_ROOMS__MAX_ROOMS": "100", "PODIUM_ROOMS__MAX_LISTENERS": "1000"}
    limits["PODIUM_ROOMS__MAX_SPEAKERS"] = "1000"
    if source is not None:  # a baseline of the release before the [rooms] table
        limits = {"PODIUM_MAX_ROOMS": "100", "PODIUM_MAX_LISTENERS": "1000"}
        limits["PODIUM_MAX_PARTICIPANTS"] = "1000"
    with podium_process(env=limits, source=source) as (url, server):
        pid = server.pid
        async with httpx.AsyncClient(timeout=30) as http:
            ids = await asyncio.gather(*(debate_room(http, url, i, record) for i in range(rooms)))
            peers: list[Peer] = []
            for room in ids:
                for _ in range(listeners):
                    peers.append(await join(http, url, room, "listener", decode=False))
            talkers = []
            if speakers:
                clips = labelled_speech()
                for index, room in enumerate(ids):
                    track = LoopingTrack(clips[index % len(clips)].pcm)
                    talkers.append(await join(http, url, room, "speaker", track, decode=False))
            hls = [asyncio.create_task(hls_listener(http, url, r)) for r in ids if broadcast]
            reading = await measure(url, pid, http, ids, peers, seconds)
            for task in hls:
                task.cancel()
            await asyncio.gather(*hls, return_exceptions=True)
            if record:
                recordings = (await http.get(f"{url}/recordings")).json()
                per_minute = [r["size"] / r["duration"] * 60 for r in recordings if r["duration"]]
                reading = dataclasses.replace(reading, stored=tuple(per_minute))
            for peer in [*peers, *talkers]:
                await peer.close()
            return reading


async def main(rooms: int, counts: list[int], seconds: float) -> None:
    idle = await phase(0, 0, False, seconds)
    print(f"idle: server {idle.cpu:.1f}% of one core, RSS {idle.rss:.0f} MiB", flush=True)

    debate = await phase(rooms, 1, False, seconds)
    per_room = (debate.cpu - idle.cpu) / rooms
    rss_room = (debate.rss - idle.rss) / rooms
    print(
        f"debate: {rooms} rooms with one listener each: server {debate.cpu:.1f}%"
        f" ({per_room:.1f}% per room, {rss_room:.1f} MiB per room), client"
        f" {debate.client_cpu:.0f}%{pacing(debate)}",
        flush=True,
    )

    cpus, rsss = [], []
    for count in counts:
        reading = await phase(1, count, False, seconds)
        cpus.append(reading.cpu)
        rsss.append(reading.rss)
        print(
            f"listeners: 1 room, {count} listeners: server {reading.cpu:.1f}%, RSS"
            f" {reading.rss:.0f} MiB, client {reading.client_cpu:.0f}%{pacing(reading)}",
            flush=True,
        )
    slope, _ = np.polyfit(counts, cpus, 1)
    rss_slope, _ = np.polyfit(counts, rsss, 1)
    print(
        f"listeners: {slope:.2f}% of a core and {rss_slope * 1024:.0f} KiB per extra listener",
        flush=True,
    )

    speaking = await phase(rooms, 1, True, seconds)
    per_speaking = (speaking.cpu - idle.cpu) / rooms
    print(
        f"speaker: {rooms} rooms with a looping speaker and a listener: server"
        f" {speaking.cpu:.1f}% ({per_speaking:.1f}% per room, of which recognizer workers"
        f" {speaking.workers / rooms:.1f}%), client"
        f" {speaking.client_cpu:.0f}%{pacing(speaking)}",
        flush=True,
    )

    usable = BUDGET - idle.cpu
    print(
        f"capacity (80% of two cores): {usable / max(per_room, 0.01):.0f} debate rooms with a"
        f" listener, or {usable / max(per_speaking, 0.01):.0f} rooms with a talking speaker,"
        f" or {(usable - per_room) / max(slope, 0.01):.0f} listeners on one debate room",
        flush=True,
    )


async def side_by_side(rooms: int, seconds: float, baseline: str, rounds: int) -> None:
    versions = {"this": None, "baseline": baseline}
    costs: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for name, source in versions.items():
            idle = await phase(0, 0, False, seconds / 2, source)
            for kind, speakers in (("debate", False), ("speaker", True)):
                reading = await phase(rooms, 1, speakers, seconds, source)
                costs.setdefault((kind, name), []).append((reading.cpu - idle.cpu) / rooms)
    print(f"per room, % of one core (median of {rounds} alternating rounds; each round's runs)")
    for kind in ("debate", "speaker"):
        this, base = (float(np.median(costs[(kind, n)])) for n in versions)
        runs = {n: " ".join(f"{c:.1f}" for c in costs[(kind, n)]) for n in versions}
        print(
            f"{kind}: this {this:.1f}% ({runs['this']}), baseline {base:.1f}%"
            f" ({runs['baseline']}), ratio {this / base:.2f}",
            flush=True,
        )


async def recording_cost(rooms: int, seconds: float, rounds: int) -> None:
    """Debating rooms with one WebRTC listener each: plain, recorded, and with a broadcast
    listener, in alternating rounds."""
    kinds = ("plain", "recorded", "broadcast")
    costs: dict[str, list[float]] = {kind: [] for kind in kinds}
    stored: list[float] = []
    for _ in range(rounds):
        for kind in kinds:
            record, broadcast = kind == "recorded", kind == "broadcast"
            reading = await phase(rooms, 1, False, seconds, record=record, broadcast=broadcast)
            costs[kind].append(reading.cpu / rooms)
            stored += reading.stored
    median = {kind: float(np.median(costs[kind])) for kind in kinds}
    for kind in kinds:
        runs = " ".join(f"{c:.2f}" for c in costs[kind])
        extra = median[kind] - median["plain"]
        print(
            f"per debating room, {kind}: {median[kind]:.2f}% of a core ({runs}),"
            f" {extra:+.2f}% over plain",
            flush=True,
        )
    print(f"recording stored: {np.median(stored) / 1024:.0f} KiB per minute", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=2)
    parser.add_argument("--listeners", type=int, nargs="+", default=[1, 10, 20, 40])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--baseline", help="also run the Podium checked out in this folder")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--recording", action="store_true", help="the cost of recording a room")
    args = parser.parse_args()
    if args.recording:
        asyncio.run(recording_cost(args.rooms, args.seconds, args.rounds))
    elif args.baseline:
        asyncio.run(side_by_side(args.rooms, args.seconds, args.baseline, args.rounds))
    else:
        asyncio.run(main(args.rooms, args.listeners, args.seconds))
