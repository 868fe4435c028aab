"""Installs the end-of-turn model's weights: Smart Turn v3.2 (BSD 2-Clause, Daily), as the
``pipecat-ai`` wheel on PyPI ships them.

The wheel is fetched from the package index (``pip download --no-deps``: none of pipecat's
dependencies), the ONNX file and the wheel's licence are copied out of it into
``<venv>/share/podium/`` and checked against a known digest; nothing else of the wheel is kept
or installed. Run by ``make setup``; without it (or offline) Podium judges pauses by words and
silence alone and says so at start-up.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "pipecat-ai==1.14.0"
MEMBER = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
LICENCE = "pipecat_ai-1.14.0.dist-info/licenses/LICENSE"
SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
TARGET = Path(sys.prefix) / "share" / "podium"
WEIGHTS = TARGET / "smart-turn-v3.2-cpu.onnx"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    if WEIGHTS.is_file() and _digest(WEIGHTS) == SHA256:
        return 0
    with tempfile.TemporaryDirectory() as folder:
        fetched = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", folder, WHEEL],
            capture_output=True,
            text=True,
        )
        wheels = list(Path(folder).glob("*.whl"))
        if fetched.returncode != 0 or not wheels:
            print(
                f"could not fetch {WHEEL} for the end-of-turn model; Podium will judge pauses "
                f"by words and silence alone ({fetched.stderr.strip()[-200:]})",
                file=sys.stderr,
            )
            return 0
        TARGET.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheels[0]) as wheel:
            (TARGET / "LICENSE-smart-turn.txt").write_bytes(wheel.read(LICENCE))
            partial = WEIGHTS.with_suffix(".part")
            partial.write_bytes(wheel.read(MEMBER))
    if _digest(partial) != SHA256:
        partial.unlink()
        print(f"{MEMBER} in {WHEEL} is not the expected file; not installed", file=sys.stderr)
        return 1
    partial.replace(WEIGHTS)
    print(f"end-of-turn model: {WEIGHTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
