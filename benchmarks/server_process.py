"""A Podium server in its own process for benchmarks (`python -m server.cli serve`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Returns once ``url`` answers 200; raises if the process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start (exit code {proc.poll()})")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # start-up wait: the process has no other way to say it is ready


@contextmanager
def podium_process(source: str | None = None, **env: str) -> Iterator[tuple[str, int]]:
    """Yields (base URL, pid) of a fresh server on a free port; ``env``: PODIUM_* overrides;
    ``source``: run the Podium checked out there instead of this one."""
    port = free_port()
    data = tempfile.mkdtemp(prefix="podium-bench-")
    environment = {
        **os.environ,
        "PODIUM_DATA_DIR": data,
        "PODIUM_PUBLIC_BASE_URL": f"http://localhost:{port}",
        "PODIUM_CONFIG": os.path.join(data, "none.toml"),
        **env,
    }
    command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--log-level", "warning"],
        env={**environment, "PYTHONPATH": source} if source else environment,
        stdout=subprocess.DEVNULL,
        cwd=source,
    )
    url = f"http://localhost:{port}"
    try:
        wait_healthy(f"{url}/healthz", proc)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)
