"""``podium serve`` with a database it cannot use stops at once with one line saying why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.serving import free_port


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
