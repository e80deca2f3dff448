"""A worker process for the rendering tools, so the server's threads keep answering while songs render.

Rendering holds the interpreter lock for long stretches (composition loops, WORLD analysis), and a
crash inside a native synthesiser would take the whole server down. Rendering tools therefore run
in one long-lived spawned process; progress comes back over a queue, results (ToolResult, picklable)
through the future. If the process dies, the call fails with a clear message and the next call
starts a fresh worker.
"""

from __future__ import annotations

import itertools
import logging
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("tunesmith.worker")

_progress_queue: Any = None
_stores: dict[str, Any] = {}


def _initialise(progress_queue: Any) -> None:
    from tools.lifetime import exit_with_parent

    global _progress_queue
    _progress_queue = progress_queue
    exit_with_parent()  # a killed server leaves no 1 GB orphan behind


def _warm_up() -> list[str]:
    from tools.registry import load_registry

    return load_registry().names()


def _run(token: int, tool_name: str, args: dict[str, Any], workdir: str, settings_json: str, owner: str | None):
    """Runs in the worker: rebuild the context from plain values and run the tool."""
    from agent.runtime import _OwnedArtifacts
    from agent.store import Store
    from tools.config import Settings
    from tools.registry import ToolContext, load_registry

    settings = Settings.model_validate_json(settings_json)
    store = _stores.get(str(settings.home))
    if store is None:
        store = _stores[str(settings.home)] = Store(settings.home)
    tool = load_registry().get(tool_name)

    def progress(fraction: float, message: str) -> None:
        _progress_queue.put((token, float(fraction), str(message)))

    ctx = ToolContext(workdir=Path(workdir), settings=settings, artifacts=_OwnedArtifacts(store, owner),
                      progress=progress)
    return tool.run(tool.validate(args), ctx)


class RenderWorker:
    """One spawned process that runs rendering tools one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens = itertools.count(1)
        self._listeners: dict[int, Callable[[float, str], None]] = {}
        self._pool: Any = None
        self._queue: Any = None
        self._start()

    def _start(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")  # no forked copies of sqlite handles or threads
        self._queue = context.Queue()
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_initialise,
                                         initargs=(self._queue,))
        self._pool.submit(_warm_up)
        threading.Thread(target=self._dispatch, args=(self._queue,), name="render-progress", daemon=True).start()

    def _dispatch(self, progress_queue: Any) -> None:
        while True:
            try:
                item = progress_queue.get()
            except (EOFError, OSError):
                return
            if item is None:
                return
            token, fraction, message = item
            listener = self._listeners.get(token)
            if listener is not None:
                listener(fraction, message)

    def submit(self, tool_name: str, args: dict[str, Any], workdir: Path, settings: Any, owner: str | None,
               progress: Callable[[float, str], None]) -> Future:
        """Start one call; the future holds the ToolResult or the exception."""
        from concurrent.futures.process import BrokenProcessPool

        token = next(self._tokens)
        self._listeners[token] = progress
        with self._lock:
            try:
                future = self._pool.submit(_run, token, tool_name, args, str(workdir), settings.model_dump_json(), owner)
            except BrokenProcessPool:
                log.warning("render worker was gone; starting a new one")
                self._start()
                future = self._pool.submit(_run, token, tool_name, args, str(workdir), settings.model_dump_json(), owner)
        future.add_done_callback(lambda _: self._listeners.pop(token, None))
        return future

    def restart_if_broken(self) -> None:
        from concurrent.futures.process import BrokenProcessPool

        with self._lock:
            try:
                self._pool.submit(_warm_up)
            except BrokenProcessPool:
                self._start()

    def close(self) -> None:
        with self._lock:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._queue.put(None)
