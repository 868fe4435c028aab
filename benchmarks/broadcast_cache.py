"""Listeners served by one nginx cache in front of one Podium (loopback): how many requests
reach the origin for how many listeners, and whether every listener got every segment.

Each listener follows the room's broadcast as a player does: the redirect (to the origin),
then blocking playlist reloads and every new segment, through nginx configured as
``docker/nginx.conf`` (``proxy_cache_lock``: one request per URL goes to the origin).

    python -m benchmarks.broadcast_cache [--listeners 500] [--seconds 20]

Needs nginx (``apt-get install nginx-light``).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from benchmarks.capacity import cpu_seconds, process_tree
from clients.launch import free_port, podium_process

CONF = """
daemon off;
user root;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format cache '$upstream_cache_status $request_uri';
    access_log {dir}/access.log cache;
    proxy_cache_path {dir}/cache levels=1:2 keys_zone=live:10m max_size=256m inactive=2m
                     use_temp_path=off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    server {{
        listen 127.0.0.1:{port};
        location ~ ^/rooms/[^/]+/live/[^/]+/ {{
            proxy_pass http://127.0.0.1:{origin};
            proxy_http_version 1.1;
            proxy_cache live;
            proxy_cache_key $uri$is_args$args;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 10s;
            proxy_cache_use_stale updating;
        }}
        location / {{
            proxy_pass http://127.0.0.1:{origin};
            proxy_http_version 1.1;
        }}
    }}
}}
"""


async def listener(http: httpx.AsyncClient, front: str, room: str, got: set[int]) -> None:
    live = await http.get(f"{front}/rooms/{room}/live.m3u8")
    base = f"{front}{live.headers['location']}".removesuffix("index.m3u8")
    playlist = (await http.get(f"{base}index.m3u8")).text
    await http.get(f"{base}init.mp4")
    fetched = -1
    while True:
        seqs = [int(x.split(".")[0]) for x in playlist.splitlines() if x.endswith(".m4s")]
        new = [s for s in seqs if s > fetched]
        if fetched < 0:
            new = new[-2:]  # a player starts near the live edge
        for seq in new:
            if (await http.get(f"{base}{seq}.m4s")).status_code == 200:
                got.add(seq)
            fetched = seq
        playlist = (await http.get(f"{base}index.m3u8", params={"_HLS_msn": fetched + 1})).text


async def main(listeners: int, seconds: float) -> None:
    nginx = shutil.which("nginx")
    if nginx is None:
        raise SystemExit("nginx is not installed (apt-get install nginx-light)")
    with podium_process() as (origin, server), tempfile.TemporaryDirectory() as folder:
        port = free_port()
        conf = Path(folder) / "nginx.conf"
        origin_port = int(origin.rsplit(":", 1)[1])
        conf.write_text(CONF.format(dir=folder, port=port, origin=origin_port))
        proxy = await asyncio.create_subprocess_exec(nginx, "-c", str(conf))
        front = f"http://127.0.0.1:{port}"
        limits = httpx.Limits(
            max_connections=listeners * 2, max_keepalive_connections=listeners * 2
        )
        try:
            async with httpx.AsyncClient(timeout=30, limits=limits) as http:
                for _ in range(50):  # nginx starting
                    try:
                        await http.get(f"{front}/healthz")
                        break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.1)
                body = {"topic": "Broadcast", "debate": True, "rounds": 20}
                room = (await http.post(f"{origin}/rooms", json=body)).json()["id"]
                got: list[set[int]] = [set() for _ in range(listeners)]
                pids = process_tree(server.pid)
                cpu, start = cpu_seconds(pids), time.monotonic()
                tasks = [asyncio.create_task(listener(http, front, room, g)) for g in got]
                await asyncio.sleep(seconds)
                elapsed = time.monotonic() - start
                used = (cpu_seconds(pids) - cpu) / elapsed * 100
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            proxy.terminate()
            await asyncio.wait_for(proxy.wait(), 5)
        lines = (Path(folder) / "access.log").read_text().splitlines()
    statuses = Counter(line.split()[0] for line in lines)
    origin_hits = sum(n for s, n in statuses.items() if s != "HIT")
    complete = sum(1 for g in got if g and len(g) == max(g) - min(g) + 1)
    print(
        f"{listeners} listeners for {elapsed:.0f} s through one nginx: {len(lines)} requests"
        f" ({len(lines) / elapsed:.0f}/s), {origin_hits} reached the origin"
        f" ({origin_hits / elapsed:.1f}/s; {dict(statuses)}); origin CPU {used:.1f}% of a core;"
        f" {complete} listeners got every segment from when they joined"
        f" (median {sorted(len(g) for g in got)[listeners // 2]} segments)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listeners", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.listeners, args.seconds))
