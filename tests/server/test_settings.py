from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from server.cli import parser
from server.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "podium.example.toml"


def test_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_CONFIG", str(EXAMPLE))
    monkeypatch.setenv("PODIUM_PORT", "9001")
    settings = Settings()
    assert settings.port == 9001, "environment beats the file"
    assert [d.name for d in settings.debaters] == ["mei", "shuai"]
    assert settings.debaters[0].persona(settings.brain).voice == "en-us+f3"
    assert settings.debate.order == ["mei", "shuai"] and settings.replicas.task_lease == 4.0
    assert settings == Settings(port=9001, debate={"order": ["mei", "shuai"]}), (
        "the example spells out the defaults"
    )


def test_tables_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_ROOMS__MAX_ROOMS", "3")
    monkeypatch.setenv("PODIUM_VOICE__END_UNFINISHED", "1.2")
    monkeypatch.setenv("PODIUM_FLOOR__CONFIRM_AFTER", "0.6")
    monkeypatch.setenv("PODIUM_FLOOR__BACKCHANNELS", '["Mm", "Yeah"]')
    settings = Settings()
    assert settings.rooms.max_rooms == 3
    assert settings.voice.vad().end_of_turn.incomplete == 1.2
    assert settings.floor.confirm_after == 0.6, "the [floor] table is the arbiter's policy"
    assert settings.floor.backchannels == frozenset({"mm", "yeah"})


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ({"floor": {"confirm_after": 9}}, "floor.confirm_after"),
        ({"floor": {"confirm_aftr": 1}}, "confirm_aftr"),
        ({"rooms": {"max_rooms": 0}}, "max_rooms"),
        ({"brain": {"kind": "magic"}}, "brain.kind"),
    ],
)
def test_a_bad_value_names_its_key(values: dict[str, object], names: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(names)):
        Settings(**values)  # type: ignore[arg-type]


def test_flat_keys_of_the_last_release_still_work_and_say_their_new_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "podium.toml"
    config.write_text("max_participants = 3\nvad_hangover = 1.1\n[voice]\nend_unsure = 0.4\n")
    monkeypatch.setenv("PODIUM_CONFIG", str(config))
    monkeypatch.setenv("PODIUM_ROOM_LEASE", "9")
    monkeypatch.setenv("PODIUM_DEBATE_ORDER", '["shuai"]')
    with caplog.at_level(logging.WARNING, logger="server.settings"):
        settings = Settings()
    assert settings.rooms.max_speakers == 3
    assert (settings.voice.end_unfinished, settings.voice.end_unsure) == (1.1, 0.4)
    assert (settings.replicas.room_lease, settings.replicas.task_lease) == (9.0, 9.0)
    assert settings.debate.order == ["shuai"]
    said = [r.getMessage() for r in caplog.records]
    assert any("max_participants" in m and "rooms.max_speakers" in m for m in said)
    assert any("room_lease" in m and "replicas.task_lease" in m for m in said)
    assert all("\n" not in m for m in said), "one line each"


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
