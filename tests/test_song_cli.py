"""`tunesmith song`: arguments reach the tool; bad input gets a clear message, not a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ui.cli", "song", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_bad_key_and_missing_lyrics_file_are_reported(tmp_path):
    done = _cli("--key", "H minor", "--out", str(tmp_path / "a"))
    assert done.returncode == 2 and "H minor" in done.stdout and "Traceback" not in done.stderr
    done = _cli("--lyrics", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "b"))
    assert done.returncode == 2 and "does not exist" in done.stdout
    bad = tmp_path / "bad.txt"
    bad.write_text("[kazoo]\nla la")
    done = _cli("--lyrics", str(bad), "--out", str(tmp_path / "c"))
    assert done.returncode == 2 and "kazoo" in done.stdout
