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


@contextmanager
def podium_process(**env: str) -> Iterator[tuple[str, int]]:
    """Yields (base URL, pid) of a fresh server on a free port; ``env``: PODIUM_* overrides."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
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
        [*command, "--log-level", "warning"], env=environment, stdout=subprocess.DEVNULL
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)  # start-up wait
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)
