"""Start `tunesmith serve` in a subprocess on a free port and wait for /healthz (for interface tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "_out"
PLANNER = "python:tests.scripted_planner:ScriptedSongPlanner"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(home: Path, *, ui: bool = True, extra_env: dict[str, str] | None = None,
                startup_s: float = 120.0) -> Iterator[str]:
    """Yield the base URL of a running server; its log goes to tests/_out/server-<port>.log."""
    port = free_port()
    OUT.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for name in ("HF_HOME", "GRADIO_TEMP_DIR", "NUMBA_CACHE_DIR", "MPLCONFIGDIR"):
        env.pop(name, None)  # point them inside this server's home, not the test process's
    env.update({"TUNESMITH_HOME": str(home), "TUNESMITH_PLANNER": PLANNER, "TUNESMITH_THREADS": "1",
                "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT),
                # numba's JIT cache survives between runs so the first song costs seconds, not a minute
                "NUMBA_CACHE_DIR": str(OUT / "numba-cache")})
    env.update(extra_env or {})
    args = [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)] + ([] if ui else ["--no-ui"])
    log = (OUT / f"server-{port}.log").open("w")
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}; see {log.name}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer /healthz within {startup_s:.0f} s")
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
