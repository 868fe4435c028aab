"""Runs a real Podium (uvicorn) on a loopback port for tests, in its own thread and loop."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from agents.persona import BrainSpec
from clients import launch
from clients.launch import free_port
from media.stt import SpeechToText
from media.tts import TextToSpeech
from server.app import create_app
from server.settings import DebateSettings, Settings


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
    brain = overrides.pop("brain", BrainSpec(words_per_second=400))
    overrides.setdefault("debate", DebateSettings(text_wpm=0))  # unpaced unless about pacing
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
    """``podium serve`` in its own process (so a test can kill it), on ``data_dir``, with the
    scripted brain unpaced; yields (URL, process). ``log``: where its log (INFO) goes."""
    unpaced = {"PODIUM_BRAIN__WORDS_PER_SECOND": "0", **env}
    with launch.podium_process(data_dir, log=log, env=unpaced) as running:
        yield running
