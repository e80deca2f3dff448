"""Worker processes end with the process that started them, even when it is killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTER = r"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
from tools.config import prepare_environment
prepare_environment()
from agent.worker import RenderWorker
from tools.song.render import helper_pool
pool, worker = helper_pool(), RenderWorker()
pool.submit(int).result() if pool is not None else None
time.sleep(2)
print(os.getpid(), flush=True)
time.sleep(600)
"""


def _descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        out = subprocess.run(["pgrep", "-P", str(frontier.pop())], capture_output=True, text=True).stdout.split()
        found += [int(p) for p in out]
        frontier += [int(p) for p in out]
    return found


def _alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().split()[2] != "Z"
    except OSError:
        return False


def test_workers_of_a_killed_process_exit():
    """The render helper (forkserver) and the agent's render worker (spawn) of a SIGKILLed parent:
    before tools/lifetime.py they slept on as orphans holding about 1 GB each."""
    parent = subprocess.Popen([sys.executable, "-c", STARTER, str(ROOT)], stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    workers = _descendants(pid)
    assert workers, "the parent started no worker processes"
    os.kill(pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    left = [w for w in workers if _alive(w)]
    for w in left:  # do not leave them behind even when the test fails
        os.kill(w, signal.SIGKILL)
    parent.stdout.close()
    assert not left, f"orphaned workers: {left}"
