"""Room capacity: CPU and memory per room, and how many rooms two cores sustain.

The server runs in its own process (`podium serve`). Each room runs a voice debate with one
listener and one speaker streaming a speech fixture in a loop (aiortc peers in this process,
so the clients compete for the same cores: the figures are pessimistic). For each room
count: the server's CPU (% of one core) and RSS, and the listeners' frame inter-arrival
(20 ms nominal): p99 and the share within 20 ± 5 ms.

Usage: python benchmarks/capacity.py [--rooms 1 2 4 6] [--seconds 12]
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
from benchmarks.server_process import podium_process
from clients.fixtures import labelled_speech
from clients.rtc import Peer, join
from clients.tracks import ScriptedTrack

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


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


class LoopingTrack(ScriptedTrack):
    """A speaker who says the fixture every few seconds."""

    def __init__(self, pcm: np.ndarray) -> None:
        pause = np.zeros(16000 * 3, np.int16)
        super().__init__(np.concatenate([pcm, pause] * 20), lead=0.5)


async def room(http: httpx.AsyncClient, url: str, index: int) -> tuple[Peer, Peer]:
    body = {"topic": f"Capacity {index}", "debate": True, "rounds": 20}
    created = (await http.post(f"{url}/rooms", json=body)).json()
    listener = await join(http, url, created["id"], "listener")
    clip = labelled_speech()[index % 3].pcm
    speaker = await join(http, url, created["id"], "speaker", LoopingTrack(clip))
    return listener, speaker


async def measure(count: int, seconds: float) -> None:
    with podium_process(PODIUM_MAX_ROOMS="100") as (url, pid):
        async with httpx.AsyncClient(timeout=30) as http:
            peers = await asyncio.gather(*(room(http, url, i) for i in range(count)))
            await asyncio.sleep(3)  # warm-up: decoders load, debates start
            pids = process_tree(pid)
            start_cpu, start = cpu_seconds(pids), time.monotonic()
            marks = [len(listener.arrivals) for listener, _ in peers]
            await asyncio.sleep(seconds)
            cpu = (cpu_seconds(pids) - start_cpu) / (time.monotonic() - start) * 100
            gaps = np.concatenate(
                [
                    np.diff(np.asarray(listener.arrivals[mark:])) * 1000
                    for (listener, _), mark in zip(peers, marks, strict=True)
                ]
            )
            within = np.mean(np.abs(gaps - 20) <= 5) * 100
            print(
                f"{count} room(s): server CPU {cpu:.0f}% of one core ({cpu / count:.0f}% per room),"
                f" RSS {rss_mib(pids):.0f} MiB; listener frames p50 {np.percentile(gaps, 50):.1f}"
                f" ms, p99 {np.percentile(gaps, 99):.1f} ms, within 20±5 ms {within:.1f}%",
                flush=True,
            )
            for listener, speaker in peers:
                await listener.close()
                await speaker.close()


async def main(counts: list[int], seconds: float) -> None:
    for count in counts:
        await measure(count, seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, nargs="+", default=[1, 2, 4, 6])
    parser.add_argument("--seconds", type=float, default=12)
    args = parser.parse_args()
    asyncio.run(main(args.rooms, args.seconds))
