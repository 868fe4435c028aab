from __future__ import annotations

import ctypes
import faulthandler
import os
import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.postgres import Postgres, postgres_server
from tests.serving import serve_podium

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "speech"


HANG_GRACE = 60.0  # seconds past a test's own timeout before the run is ended as hung

# The longest modules (a minute or more of real-time audio, a browser, a load) run first, so
# that with the suite split over workers (``make test``: one module per worker at a time, in
# this order) no worker is left alone with a long one at the end.
LONGEST_FIRST = (
    "tests/store/test_store_load.py",
    "tests/server/test_scenarios.py",
    "tests/browser/test_page.py",
    "tests/server/test_end_of_turn.py",
    "tests/server/test_audience.py",
    "tests/server/test_recordings.py",
    "tests/server/test_bad_input.py",
    "tests/server/test_rooms.py",
    "tests/server/test_bargein.py",
    "tests/replicas/test_recordings.py",
)


PR_CAPBSET_DROP, CAP_SYS_NICE = 24, 23  # <linux/prctl.h>, <linux/capability.h>


def pytest_configure(config: pytest.Config) -> None:
    """Nothing the suite starts may raise its own scheduling priority, as nothing a user
    runs can. Run as root (CI), Chromium puts its threads at nice -8 and they starve the
    real-time audio of the tests on the other worker (packet gaps of 0.2 to 0.6 s). Dropping
    CAP_SYS_NICE from this process's bounding set takes it from every program started
    after, as for a browser a person runs."""
    if sys.platform == "linux" and os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_CAPBSET_DROP, CAP_SYS_NICE, 0, 0, 0) != 0:
            errno = ctypes.get_errno()
            config.issue_config_time_warning(
                pytest.PytestWarning(f"could not drop CAP_SYS_NICE: {os.strerror(errno)}"), 2
            )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    """The backstop behind pytest-timeout: a test (setup, call and teardown) that its
    timeout could not end (a loop blocked outside Python, a signal swallowed) ends the run
    with every thread's stack on stderr, instead of hanging the suite until CI's limit."""
    marker = item.get_closest_marker("timeout")
    limit = (
        float(marker.args[0]) if marker and marker.args else float(item.config.getini("timeout"))
    )
    faulthandler.dump_traceback_later(limit + HANG_GRACE, exit=True, file=sys.stderr)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's podium.toml or OpenAI variables."""
    monkeypatch.setenv("PODIUM_CONFIG", str(tmp_path / "absent.toml"))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def podium(tmp_path: Path) -> Iterator[str]:
    """A running Podium with the scripted brain (fast) and a fresh data dir."""
    with serve_podium(tmp_path / "data") as url:
        yield url


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One real PostgreSQL for the session (each test makes its own database in it)."""
    with postgres_server() as server:
        yield server
