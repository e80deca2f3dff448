"""Test set-up: an isolated data dir, offline flags, one thread per library."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="tunesmith-test-home-"))
os.environ.setdefault("TUNESMITH_HOME", str(_HOME))
os.environ.setdefault("TUNESMITH_THREADS", "1")
# compiled numba kernels (librosa) outlive the throwaway home: recompiling them cost ~90 s per run
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "numba"))

from tools.config import prepare_environment  # noqa: E402

prepare_environment()

import pytest  # noqa: E402


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path
