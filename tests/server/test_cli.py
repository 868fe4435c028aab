"""``podium serve`` with a database it cannot use stops at once with one line saying why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.serving import free_port, serve_podium


def test_serve_with_an_unreachable_database_exits_with_one_line(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--port",
            str(free_port()),
            "--database-url",
            f"postgresql+asyncpg://podium:secret@127.0.0.1:{port}/podium",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
        env={"PODIUM_CONFIG": str(tmp_path / "absent.toml"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("podium: database postgresql+asyncpg://podium:***@127.0.0.1")
    assert "secret" not in done.stderr and "not usable" in lines[0]


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ("debate_round = 5\n", "podium: config: debate_round: unknown key"),
        ("[floor]\nmin_flor = 2\n", "podium: config: floor.min_flor: unknown key"),
        ('[floor]\nmin_floor = "soon"\n', "podium: config: floor.min_floor: Input should be"),
        ("[floor]\nconfirm_after = 9\n", "podium: config: floor: floor.confirm_after must be"),
        ("[rooms]\nmax_rooms = 0\n", "podium: config: rooms.max_rooms: Input should be"),
        ("port = 0x\n", "podium: config"),
    ],
    ids=["unknown key", "unknown nested key", "bad value", "out of range", "bad table", "not TOML"],
)
def test_a_bad_config_file_is_one_line_naming_the_key(
    tmp_path: Path, config: str, says: str
) -> None:
    path = tmp_path / "podium.toml"
    path.write_text(config)
    done = serve(tmp_path, "--config", str(path))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(says)


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    done = serve(tmp_path, "--config", str(tmp_path / "nope.toml"))
    assert done.returncode == 2
    assert done.stderr.strip() == f"podium: config file {tmp_path / 'nope.toml'} does not exist"


def serve(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(free_port()), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
        env={"PODIUM_CONFIG": str(tmp_path / "absent.toml"), "PATH": "/usr/bin:/bin"},
    )


def test_debate_prints_a_debate_from_the_server_at_url(tmp_path: Path) -> None:
    with serve_podium(tmp_path / "data") as url:  # on a port of its own, not 8000
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "debate", "Trams?", "--url", url, "--rounds", "1"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).resolve().parents[2],
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("# completed")
    assert "Mei:" in done.stdout and "Shuai:" in done.stdout


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_serving_beyond_loopback_needs_authentication_or_insecure(
    tmp_path: Path, host: str
) -> None:
    done = serve(tmp_path, "--host", host, "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"refusing to serve on {host} with no authentication" in done.stderr
    assert "--insecure" in done.stderr


def test_a_short_api_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "podium.toml"
    config.write_text('[auth]\napi_keys = ["short"]\n')
    done = serve(tmp_path, "--config", str(config))
    assert done.returncode == 2 and "auth.api_keys" in done.stderr
