"""A Podium server in its own process (``python -m server.cli serve``) on a free loopback
port: what the tests that kill or signal a server and the benchmarks start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPOSITORY = Path(__file__).resolve().parent.parent


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
def podium_process(
    data_dir: Path | None = None,
    source: str | None = None,
    log: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Yields (base URL, process) of a fresh server. ``data_dir``: its data (default: a new
    temporary folder); ``source``: run the Podium checked out there instead of this one;
    ``log``: where its log goes, at INFO (default: warnings only, to stderr); ``env``:
    ``PODIUM_*`` overrides."""
    env = env or {}
    port = free_port()
    data = str(data_dir) if data_dir is not None else tempfile.mkdtemp(prefix="podium-")
    environment = {
        **os.environ,
        "PODIUM_DATA_DIR": data,
        "PODIUM_PUBLIC_BASE_URL": f"http://localhost:{port}",
        "PODIUM_CONFIG": os.path.join(data, "absent.toml"),
        **env,
    }
    if source:
        environment["PYTHONPATH"] = source
    command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port)]
    stderr = log.open("wb") if log is not None else None
    proc = subprocess.Popen(
        [*command, "--log-level", "info" if log is not None else "warning"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        cwd=source or REPOSITORY,
    )
    url = f"http://localhost:{port}"
    try:
        wait_healthy(f"{url}/healthz", proc)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
        if stderr is not None:
            stderr.close()
