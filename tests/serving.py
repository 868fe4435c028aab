"""Runs a real Podium (uvicorn) on a loopback port for tests, in its own thread and loop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from media.stt import SpeechToText
from media.tts import TextToSpeech
from server.app import create_app
from server.settings import BrainSettings, Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_app(app: ASGIApp, port: int | None = None) -> Iterator[str]:
    """Serves ``app`` on 127.0.0.1; yields its base URL (with ``localhost``)."""
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ws="wsproto",  # as podium serve
        timeout_graceful_shutdown=1,  # open event streams must not hold a restart up
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def podium_settings(data_dir: Path, port: int, **overrides: Any) -> Settings:
    brain = overrides.pop("brain", BrainSettings(words_per_second=400))
    overrides.setdefault("text_debate_wpm", 0)  # unpaced unless a test is about pacing
    return Settings(
        data_dir=data_dir,
        public_base_url=f"http://localhost:{port}",
        brain=brain,
        **overrides,
    )


@contextmanager
def serve_podium(
    data_dir: Path,
    port: int | None = None,
    engines: tuple[SpeechToText, TextToSpeech] | None = None,
    **overrides: Any,
) -> Iterator[str]:
    port = port or free_port()
    settings = podium_settings(data_dir, port, **overrides)
    with serve_app(create_app(settings, engines), port) as url:
        yield url


@contextmanager
def podium_process(
    data_dir: Path, log: Path | None = None, **env: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``podium serve`` in its own process (so a test can kill it); yields (URL, process).
    ``log``: where its log (stderr, at INFO) goes."""
    port = free_port()
    environment = {
        **os.environ,
        "PODIUM_DATA_DIR": str(data_dir),
        "PODIUM_PUBLIC_BASE_URL": f"http://localhost:{port}",
        "PODIUM_CONFIG": str(data_dir / "absent.toml"),
        "PODIUM_BRAIN__WORDS_PER_SECOND": "0",
        **env,
    }
    command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port)]
    stderr = log.open("wb") if log is not None else None
    process = subprocess.Popen(
        [*command, "--log-level", "info" if log is not None else "warning"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        cwd=Path(__file__).resolve().parent.parent,
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # until it answers: the process has no other way to say it is ready
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"podium did not start (exit code {process.poll()})")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)  # not up yet: it has no other way to say it is ready
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(10)
        if stderr is not None:
            stderr.close()
