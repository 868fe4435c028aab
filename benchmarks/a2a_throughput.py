"""SendMessage requests/s and SendStreamingMessage time-to-first-chunk, with the a2a-sdk client.

Usage: python benchmarks/a2a_throughput.py [--url URL] [--clients 8] [--requests 400]
Without --url, starts `podium serve` on a free loopback port with the scripted brain at full
speed (a trivial brain: the figures measure Podium and the A2A stack, not a model).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import numpy as np
from a2a.types import a2a_pb2 as pb

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.server_process import podium_process
from clients.a2a import fetch_card, make_client, user_message

QUIET = ("--log-level", "warning")


@contextmanager
def podium_server() -> Iterator[str]:
    with podium_process(PODIUM_BRAIN__WORDS_PER_SECOND="0") as (url, _):
        yield url


def summary(name: str, values: list[float], unit: str = "ms") -> str:
    a = np.asarray(values) * 1000
    return (
        f"{name}: p50 {np.percentile(a, 50):.1f} {unit}, p95 {np.percentile(a, 95):.1f} {unit}, "
        f"n={len(a)}"
    )


async def run(url: str, clients: int, requests: int) -> None:
    limits = httpx.Limits(max_connections=clients * 2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        card = await fetch_card(http, f"{url}/agents/shuai")
        plain = make_client(http, card, streaming=False)
        streaming = make_client(http, card, streaming=True)
        latencies: list[float] = []
        ttfc: list[float] = []
        per_client = requests // clients

        async def send_worker() -> None:
            for _ in range(per_client):
                start = time.perf_counter()
                async for response in plain.send_message(user_message("Costs?")):
                    assert response.task.status.state == pb.TaskState.TASK_STATE_COMPLETED
                latencies.append(time.perf_counter() - start)

        async def stream_worker() -> None:
            for _ in range(per_client):
                start = time.perf_counter()
                first = None
                async for response in streaming.send_message(user_message("Costs?")):
                    if first is None and response.HasField("artifact_update"):
                        first = time.perf_counter() - start
                assert first is not None
                ttfc.append(first)

        await asyncio.gather(*(send_worker() for _ in range(2)))  # warm-up
        latencies.clear()
        start = time.perf_counter()
        await asyncio.gather(*(send_worker() for _ in range(clients)))
        elapsed = time.perf_counter() - start
        await asyncio.gather(*(stream_worker() for _ in range(clients)))
    print(f"A2A throughput, {clients} concurrent clients, JSON-RPC 1.0, unpaced scripted brain")
    print(f"SendMessage: {len(latencies) / elapsed:.1f} requests/s")
    print(summary("SendMessage latency", latencies))
    print(summary("SendStreamingMessage time to first chunk", ttfc))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    if args.url:
        asyncio.run(run(args.url, args.clients, args.requests))
    else:
        with podium_server() as url:
            asyncio.run(run(url, args.clients, args.requests))


if __name__ == "__main__":
    main()
