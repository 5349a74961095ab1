"""Where does the server's event loop stall? `bench.responsiveness --watch` puts this folder on
the server's PYTHONPATH, so Python runs it at start-up in `python -m app serve` (every other
process started with the same environment, the CPU pool's children included, ignores it).

It writes one JSON line to `$BENCH_LOOP_WATCH` for each of:
  lag  the loop woke up late from a 5 ms sleep by more than `$BENCH_LOOP_WATCH_MS` (10):
       something held it (a callback, or another thread with the GIL)
  gc   a garbage collection of generation 1 or 2 that took over 5 ms, on the thread it ran on
       (a collection holds the GIL: the loop waits for it wherever it runs)
each with `at`, the wall-clock time (`time.time()`), so the bench can keep those that fall
within the review. Only for measuring: nothing of the app imports this.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import threading
import time
from collections.abc import Coroutine
from typing import Any, TextIO

_SLEEP = 0.005


def _write(out: TextIO, **event: Any) -> None:
    out.write(json.dumps({"at": time.time(), **event}) + "\n")


async def _lag_monitor(out: TextIO, threshold: float) -> None:
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(_SLEEP)
        late = loop.time() - before - _SLEEP
        if late > threshold:
            _write(out, kind="lag", ms=round(late * 1000, 1))


def _watch_collections(out: TextIO) -> None:
    started: dict[int, float] = {}

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[threading.get_ident()] = time.perf_counter()
            return
        took = time.perf_counter() - started.pop(threading.get_ident(), time.perf_counter())
        if info["generation"] > 0 and took > 0.005:
            ms = round(took * 1000, 1)
            name = threading.current_thread().name
            _write(out, kind="gc", generation=info["generation"], ms=ms, thread=name)

    gc.callbacks.append(callback)


def _install(path: str, threshold: float) -> None:
    out = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - for the process's life
    _watch_collections(out)
    run = asyncio.Runner.run  # uvicorn and asyncio.run both run their loop through a Runner

    def run_watched(self: asyncio.Runner, coro: Coroutine[Any, Any, Any], **kw: Any) -> Any:
        async def watched() -> Any:
            monitor = asyncio.get_running_loop().create_task(_lag_monitor(out, threshold))
            try:
                return await coro
            finally:
                monitor.cancel()

        return run(self, watched(), **kw)

    asyncio.Runner.run = run_watched  # type: ignore[method-assign]


_PATH = os.environ.get("BENCH_LOOP_WATCH")
if _PATH and sys.argv[1:2] == ["serve"]:
    _install(_PATH, float(os.environ.get("BENCH_LOOP_WATCH_MS", "10")) / 1000)
