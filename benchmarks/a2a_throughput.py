"""SendMessage requests/s and SendStreamingMessage time-to-first-chunk, with the a2a-sdk client.

Usage:
  python benchmarks/a2a_throughput.py [--url URL] [--clients 8] [--requests 400]
  python benchmarks/a2a_throughput.py --compare [--rounds 5] [--database-url postgresql+asyncpg://...]

Without --url, starts `podium serve` on a free loopback port with the scripted brain at full
speed (unpaced: the figures measure Podium, its store and the A2A stack, not a model). With
--compare, the same load client runs alternating rounds against Podium (a debater, durable
SQLite store, multi-sentence reply) and against the a2a-sdk serving a trivial agent from its
in-memory store and from its own DatabaseTaskStore on SQLite (benchmarks/sdk_reference.py),
and prints each one's throughput and its ratio to the in-memory reference; --database-url
adds Podium on that database (e.g. PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import numpy as np
from a2a.types import a2a_pb2 as pb

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from clients.a2a import fetch_card, make_client, user_message
from clients.launch import free_port, podium_process, wait_healthy


@contextmanager
def podium_server(database_url: str = "", source: str | None = None) -> Iterator[str]:
    env = {"PODIUM_BRAIN__WORDS_PER_SECOND": "0"}
    if database_url:
        env["PODIUM_DATABASE_URL"] = database_url
    with podium_process(source=source, env=env) as (url, _):
        yield f"{url}/agents/shuai"


@contextmanager
def sdk_reference(database: bool) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, os.path.join(os.path.dirname(__file__), "sdk_reference.py")]
    command += ["--port", str(port)]
    with tempfile.TemporaryDirectory(prefix="a2a-ref-") as folder:
        if database:
            command += ["--database-url", f"sqlite+aiosqlite:///{folder}/tasks.db"]
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://localhost:{port}"
        try:
            wait_healthy(f"{url}/.well-known/agent-card.json", proc)
            yield url
        finally:
            proc.terminate()
            proc.wait(10)


def summary(name: str, values: list[float], unit: str = "ms") -> str:
    a = np.asarray(values) * 1000
    return (
        f"{name}: p50 {np.percentile(a, 50):.1f} {unit}, p95 {np.percentile(a, 95):.1f} {unit}, "
        f"n={len(a)}"
    )


async def send_round(
    http: httpx.AsyncClient, url: str, clients: int, requests: int
) -> tuple[float, list[float]]:
    """(requests/s, latencies) of ``requests`` SendMessage calls from ``clients`` at once."""
    plain = make_client(http, await fetch_card(http, url), streaming=False)
    latencies: list[float] = []

    async def worker() -> None:
        for _ in range(requests // clients):
            start = time.perf_counter()
            async for response in plain.send_message(user_message("Costs?")):
                assert response.task.status.state == pb.TaskState.TASK_STATE_COMPLETED
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return len(latencies) / (time.perf_counter() - start), latencies


async def first_chunks(
    http: httpx.AsyncClient, url: str, clients: int, requests: int
) -> list[float]:
    streaming = make_client(http, await fetch_card(http, url), streaming=True)
    ttfc: list[float] = []

    async def worker() -> None:
        for _ in range(requests // clients):
            start = time.perf_counter()
            first = None
            async for response in streaming.send_message(user_message("Costs?")):
                if first is None and response.HasField("artifact_update"):
                    first = time.perf_counter() - start
            assert first is not None
            ttfc.append(first)

    await asyncio.gather(*(worker() for _ in range(clients)))
    return ttfc


def limits(clients: int) -> httpx.Limits:
    return httpx.Limits(max_connections=clients * 2)


async def run(url: str, clients: int, requests: int) -> None:
    async with httpx.AsyncClient(timeout=30, limits=limits(clients)) as http:
        await send_round(http, url, 2, 20)  # warm-up
        rate, latencies = await send_round(http, url, clients, requests)
        ttfc = await first_chunks(http, url, clients, requests)
    print(f"A2A throughput, {clients} concurrent clients, JSON-RPC 1.0, unpaced scripted brain")
    print(f"SendMessage: {rate:.1f} requests/s")
    print(summary("SendMessage latency", latencies))
    print(summary("SendStreamingMessage time to first chunk", ttfc))


async def compare(targets: dict[str, str], clients: int, requests: int, rounds: int) -> None:
    rates: dict[str, list[float]] = {name: [] for name in targets}
    latencies: dict[str, list[float]] = {name: [] for name in targets}
    async with httpx.AsyncClient(timeout=60, limits=limits(clients)) as http:
        for url in targets.values():
            await send_round(http, url, 2, 20)  # warm-up
        for _ in range(rounds):  # alternating: drift on the machine hits every target alike
            for name, url in targets.items():
                rate, seen = await send_round(http, url, clients, requests)
                rates[name].append(rate)
                latencies[name] += seen
        podium_ttfc = await first_chunks(http, targets["podium (SQLite)"], clients, requests)
    reference = statistics.median(rates["a2a-sdk, in-memory store"])
    print(f"SendMessage, {clients} concurrent clients, {rounds} alternating rounds of {requests}")
    print(f"{'server':<34} {'req/s (median)':>15} {'p50 ms':>8} {'p95 ms':>8} {'ratio':>7}")
    for name in targets:
        rate = statistics.median(rates[name])
        a = np.asarray(latencies[name]) * 1000
        print(
            f"{name:<34} {rate:>15.1f} {np.percentile(a, 50):>8.1f} {np.percentile(a, 95):>8.1f}"
            f" {rate / reference:>6.2f}x"
        )
    print(summary("Podium SendStreamingMessage time to first chunk", podium_ttfc))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="a running agent's base URL (its card is fetched)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="", help="also run Podium on this database")
    parser.add_argument(
        "--baseline", help="also run the Podium checked out in this folder (e.g. a git worktree)"
    )
    args = parser.parse_args()
    if args.url:
        asyncio.run(run(args.url, args.clients, args.requests))
        return
    if not args.compare:
        with podium_server() as url:
            asyncio.run(run(url, args.clients, args.requests))
        return
    with ExitStack() as stack:
        targets = {
            "a2a-sdk, in-memory store": stack.enter_context(sdk_reference(database=False)),
            "a2a-sdk, DatabaseTaskStore SQLite": stack.enter_context(sdk_reference(database=True)),
            "podium (SQLite)": stack.enter_context(podium_server()),
        }
        if args.baseline:
            baseline = podium_server(source=args.baseline)
            targets["podium baseline (SQLite)"] = stack.enter_context(baseline)
        if args.database_url:
            targets["podium (database_url)"] = stack.enter_context(podium_server(args.database_url))
        asyncio.run(compare(targets, args.clients, args.requests, args.rounds))


if __name__ == "__main__":
    main()
