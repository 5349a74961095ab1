"""A few worker processes for the review's CPU work, each call under a wall-clock budget.

Why processes: the webhook route and the job worker share one event loop, and a review's
parsing, rules, planning and prompt building are pure CPU that could hold it for seconds (on
hostile input, minutes). A thread cannot be stopped; a process can be killed. On overrun the
process is killed, a fresh one takes its place, and the caller gets what the function had
produced so far:

    pool = CpuPool(processes=2, preload=("app.review.rules",))
    outcome = await pool.stream(make_items, diff, config, budget=30.0)
    outcome.items     # what make_items yielded before it finished or was stopped
    outcome.finished  # False: stopped (outcome.stopped says why: the budget, a crash)
    result = await pool.run(plan, findings, budget=5.0)   # one value, or OverBudget
    await pool.aclose()

The function is module-level (pickled by name) and its arguments picklable values. With
`stream` it is a generator function and each item reaches the caller's side as soon as it is
yielded, so an overrun keeps everything finished before it. Children start with `forkserver`
where the platform has it (else `spawn`): never a fork of the server with its threads and
open connections. `preload` names modules the fork server imports once, so a replacement is
ready in milliseconds. The children run at a lower priority (`niceness`): on a busy machine
the server's event loop is scheduled first.

Errors: `OverBudget` (the budget passed or the process died; `.outcome` has the partial items),
`CpuTaskError` (the function raised: a bug, logged with the child's traceback).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any, Generic, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

Stopped = Literal["budget", "crashed"]
_KILL_WAIT = 5.0  # seconds to wait for a killed child to be reaped


class CpuPoolError(Exception):
    """Base of the pool's errors."""


class CpuTaskError(CpuPoolError):
    """The function raised in the worker process; `kind` is the exception's class name."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


class OverBudget(CpuPoolError):
    """The function did not finish: its budget passed, or its process died."""

    def __init__(self, outcome: Outcome[Any], budget: float) -> None:
        self.outcome = outcome
        self.budget = budget
        what = "ran past its budget of" if outcome.stopped == "budget" else "crashed within"
        super().__init__(f"the work {what} {budget:g} s")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What a streamed call produced: every item yielded before it finished or was stopped."""

    items: list[T] = field(default_factory=list)
    finished: bool = True
    stopped: Stopped | None = None  # why it did not finish
    seconds: float = 0.0  # wall-clock time the call had a process


# --- the child's side ---------------------------------------------------------------------


def _child_main(conn: Connection, niceness: int) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the server stops us, not the signal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness:
        # On a busy machine the server's event loop (webhooks, probes) goes first.
        with contextlib.suppress(OSError, AttributeError):
            os.nice(niceness)
    while True:
        try:
            fn, args, streaming = conn.recv()
        except (EOFError, OSError):
            return  # the server closed our pipe: it is stopping
        try:
            if streaming:
                for item in fn(*args):
                    conn.send(("item", item))
                conn.send(("done", None))
            else:
                conn.send(("done", fn(*args)))
        except Exception as exc:  # noqa: BLE001 - reported to the caller, the process lives on
            conn.send(("error", (type(exc).__name__, str(exc), traceback.format_exc())))


# --- the server's side --------------------------------------------------------------------


class _Worker:
    """One child process and the server's end of its pipe."""

    def __init__(self, ctx: BaseContext, niceness: int) -> None:
        ours, theirs = ctx.Pipe(duplex=True)
        process: BaseProcess = ctx.Process(  # type: ignore[attr-defined]
            target=_child_main, args=(theirs, niceness), name="backend-review-cpu", daemon=True
        )
        process.start()
        theirs.close()
        self.process = process
        self.conn = ours

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def kill(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()
        self.process.join(_KILL_WAIT)
        with contextlib.suppress(OSError):
            self.conn.close()

    def stop(self) -> None:
        """Close the pipe (the child leaves its loop); kill it if it does not go."""
        with contextlib.suppress(OSError):
            self.conn.close()
        self.process.join(1.0)
        if self.process.is_alive():
            self.kill()


def _exchange(
    worker: _Worker,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    *,
    streaming: bool,
    budget: float,
) -> tuple[Outcome[Any], Any]:
    """Run one call on `worker` (in a helper thread, never on the event loop)."""
    started = time.monotonic()
    deadline = started + budget
    items: list[Any] = []

    def stopped(why: Stopped) -> tuple[Outcome[Any], Any]:
        return Outcome(items, False, why, time.monotonic() - started), None

    try:
        worker.conn.send((fn, args, streaming))
    except (BrokenPipeError, EOFError, ConnectionError):
        return stopped("crashed")
    while True:
        left = deadline - time.monotonic()
        try:
            if left <= 0 or not worker.conn.poll(left):
                return stopped("budget")
            kind, payload = worker.conn.recv()
        except (EOFError, OSError):
            return stopped("crashed")
        if kind == "item":
            items.append(payload)
        elif kind == "done":
            return Outcome(items, True, None, time.monotonic() - started), payload
        else:
            name, message, trace = payload
            log.error("CPU task %s raised in the worker process:\n%s", _name(fn), trace)
            raise CpuTaskError(name, message)


def _name(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def default_method() -> str:
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class CpuPool:
    """`processes` worker processes; a call waits for a free one (that wait is not budgeted)."""

    def __init__(
        self,
        processes: int,
        *,
        preload: Sequence[str] = (),
        method: str | None = None,
        niceness: int = 10,
    ) -> None:
        if processes < 1:
            raise ValueError("a CPU pool needs at least one process")
        self._ctx = multiprocessing.get_context(method or default_method())
        if preload and self._ctx.get_start_method() == "forkserver":
            self._ctx.set_forkserver_preload(list(preload))
        self._size = processes
        self._niceness = niceness
        # Calls wait in these threads (one per process, plus one for starting and reaping).
        self._threads = ThreadPoolExecutor(processes + 1, thread_name_prefix="cpu-pool")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._background: set[asyncio.Task[None]] = set()
        self.replaced = 0  # processes killed and replaced (overruns, crashes, cancellations)

    @property
    def pids(self) -> list[int]:
        """The live worker processes' ids (for tests and diagnostics)."""
        with self._lock:
            return sorted(w.pid for w in self._all if w.pid is not None)

    async def start(self) -> None:
        """Start the processes now (else the first call starts them)."""
        if self._started:
            return
        self._started = True
        await asyncio.gather(*(self._add_worker() for _ in range(self._size)))

    async def _add_worker(self) -> None:
        loop = asyncio.get_running_loop()
        worker = await loop.run_in_executor(self._threads, _Worker, self._ctx, self._niceness)
        if self._closed:
            await loop.run_in_executor(self._threads, worker.stop)
            return
        with self._lock:
            self._all.add(worker)
        self._idle.put_nowait(worker)

    async def stream(self, fn: Callable[..., Iterator[T]], *args: Any, budget: float) -> Outcome[T]:
        """Run the generator function `fn(*args)` in a worker; every item it yields within
        `budget` seconds is kept. Never raises OverBudget: read `outcome.finished`."""
        outcome, _ = await self.call(fn, args, streaming=True, budget=budget)
        return outcome

    async def run(self, fn: Callable[..., R], *args: Any, budget: float) -> R:
        """`fn(*args)` in a worker; OverBudget if it does not return within `budget` seconds."""
        outcome, value = await self.call(fn, args, streaming=False, budget=budget)
        if not outcome.finished:
            raise OverBudget(outcome, budget)
        return value  # type: ignore[no-any-return]

    async def call(
        self, fn: Callable[..., Any], args: tuple[Any, ...], *, streaming: bool, budget: float
    ) -> tuple[Outcome[Any], Any]:
        """`stream` (streaming) or `run` without the wrapping: the outcome (with the seconds
        the call had a process) and, when it finished, the value."""
        if self._closed:
            raise CpuPoolError("the CPU pool is closed")
        await self.start()
        worker = await self._idle.get()
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(
            self._threads,
            lambda: _exchange(worker, fn, args, streaming=streaming, budget=budget),
        )
        try:
            outcome, value = await asyncio.shield(call)
        except CpuTaskError:
            self._idle.put_nowait(worker)  # the function raised; the process is fine
            raise
        except BaseException:
            # Cancelled (a shutdown) or our own bug: the child may still be working. Killing
            # it ends the waiting thread too.
            self._replace(worker)
            raise
        if outcome.finished:
            self._idle.put_nowait(worker)
        else:
            log.warning(
                "CPU task %s stopped (%s) after %.1f s; replacing its process",
                _name(fn),
                outcome.stopped,
                outcome.seconds,
            )
            self._replace(worker)
        return outcome, value

    def _replace(self, worker: _Worker) -> None:
        self.replaced += 1
        with self._lock:
            self._all.discard(worker)

        async def replace() -> None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._threads, worker.kill)
            if not self._closed:
                await self._add_worker()

        task = asyncio.get_running_loop().create_task(replace())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def aclose(self) -> None:
        """Stop every process (a call still running is killed with it)."""
        self._closed = True
        for task in list(self._background):
            with contextlib.suppress(Exception):
                await task
        with self._lock:
            workers, self._all = list(self._all), set()
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._threads, w.stop) for w in workers))
        self._threads.shutdown(wait=False, cancel_futures=True)
