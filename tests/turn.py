"""A real TURN server for tests: Debian's coturn on a loopback port, with the REST-API shared
secret, relaying to loopback peers. Tests that need it skip, saying why, where it is absent."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.serving import free_port

TURNSERVER = shutil.which("turnserver")
needs_coturn = pytest.mark.skipif(
    TURNSERVER is None, reason="coturn not found (apt-get install coturn; .ci/run installs it)"
)


@dataclass(frozen=True)
class Turn:
    port: int
    secret: str

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    @property
    def tcp_url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=tcp"


def _listening(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        with socket.socket() as probe:  # coturn listens on TCP and UDP on the same port
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


@contextmanager
def turn_server(secret: str = "turn-secret-for-tests-0123456789") -> Iterator[Turn]:
    """coturn with ``use-auth-secret`` on 127.0.0.1, stopped on exit (even on failure)."""
    assert TURNSERVER is not None
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="podium-turn-") as root:
        log = Path(root) / "turn.log"
        argv = [
            TURNSERVER,
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={port}",
            "--min-port=49160",
            "--max-port=49999",
            "--use-auth-secret",
            f"--static-auth-secret={secret}",
            "--realm=podium.test",
            "--allow-loopback-peers",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--fingerprint",
            f"--pidfile={root}/turn.pid",
            f"--log-file={log}",
            "--simple-log",
            "--no-stdout-log",
        ]
        output = Path(root) / "turn.out"
        with output.open("wb") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            if not _listening(port, time.monotonic() + 10):
                process.kill()
                process.wait(timeout=5)
                said = output.read_text(errors="replace")[-500:]
                pytest.fail(f"coturn did not start: {said}")
            yield Turn(port, secret)
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
