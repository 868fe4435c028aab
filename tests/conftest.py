from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import Postgres, postgres_server
from tests.serving import serve_podium

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "speech"


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
