from __future__ import annotations

from pathlib import Path

import pytest

from server.cli import parser
from server.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[1] / "podium.example.toml"


def test_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_CONFIG", str(EXAMPLE))
    monkeypatch.setenv("PODIUM_PORT", "9001")
    settings = Settings()
    assert settings.port == 9001, "environment beats the file"
    assert [d.name for d in settings.debaters] == ["mei", "shuai"]
    assert settings.debaters[0].persona(settings.brain).voice == "en-us+f3"


def test_openai_environment_switches_default_brain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    brain = Settings().default_brain()
    assert (brain.kind, brain.base_url) == ("openai", "http://localhost:11434/v1")


def test_serve_help_documents_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["serve", "--help"])
    text = capsys.readouterr().out
    for flag in ("--port", "--data-dir", "--public-base-url", "--config", "PODIUM_DATA_DIR"):
        assert flag in text
