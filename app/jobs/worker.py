"""The worker: claims jobs, runs them with a heartbeat on the lease, records the outcome.

`concurrency` slots each loop claim → run → complete/fail. A slot that completes a job claims
the next one in the same transaction, and keeps going until the queue is empty; then it waits
for `wake()` (one call per job queued in this process wakes one idle slot) or for the next poll.
Stopping drains: no new claims, in-flight jobs get `drain_seconds` to finish, and any still
running are released back to the queue untried, so another worker (or this one after a
restart) picks them up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from app.errors import BackendReviewError, PermanentJobError
from app.jobs.handlers import DeadHandler, JobHandler
from app.logs import log_context
from app.metrics import Metrics
from app.store.jobs import ClaimedJob, JobQueue, JobStatus
from app.tracing import span

log = logging.getLogger(__name__)

T = TypeVar("T")


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[str, JobHandler],
        *,
        concurrency: int,
        poll_seconds: float,
        drain_seconds: float,
        metrics: Metrics | None = None,
        on_dead: Mapping[str, DeadHandler] | None = None,
    ) -> None:
        self._queue = queue
        self._handlers = handlers
        self._on_dead = on_dead or {}
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._drain = drain_seconds
        self._metrics = metrics
        self._stopping = asyncio.Event()
        self._slots: list[asyncio.Task[None]] = []
        self._idle: deque[asyncio.Future[None]] = deque()
        self._missed_wakes = 0  # wakes kept for later (see `wake`)
        self._claims_in_flight = 0

    def wake(self) -> None:
        """A job was queued in this process: one idle slot looks now rather than at the next
        poll. While a slot's claim is on its way it may well take the job, so the wake is kept
        for later instead: that slot looks again before it idles, or passes the wake on to an
        idle slot once it has a job in hand."""
        if self._claims_in_flight == 0 and self._wake_idle_slot():
            return
        self._missed_wakes = min(self._missed_wakes + 1, self._concurrency)

    def _wake_idle_slot(self) -> bool:
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return True
        return False

    def _got_job(self, *, continuing: bool) -> None:
        if continuing:
            # Taken without being woken: it answers a kept wake, if there was one.
            self._missed_wakes = max(0, self._missed_wakes - 1)
        if self._missed_wakes and self._wake_idle_slot():
            self._missed_wakes -= 1

    def start(self) -> None:
        self._slots = [
            asyncio.create_task(self._slot(), name=f"worker-slot-{i}")
            for i in range(self._concurrency)
        ]
        log.info("worker %s started with %d slots", self._queue.worker_id, self._concurrency)

    async def stop(self) -> None:
        if not self._slots:
            return
        self._stopping.set()
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(None)
        _, pending = await asyncio.wait(self._slots, timeout=self._drain)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._slots, return_exceptions=True)
        self._slots = []
        log.info("worker %s stopped", self._queue.worker_id)

    async def _slot(self) -> None:
        job: ClaimedJob | None = None
        while not self._stopping.is_set():
            if job is None:
                try:
                    job = await self._claiming(self._queue.claim(), lambda claimed: claimed)
                except Exception as exc:  # noqa: BLE001 - the database may be back soon
                    log.warning("could not claim a job: %s", type(exc).__name__)
                await self._close_buried()
                if job is None:
                    await self._idle_wait()
                    continue
                self._got_job(continuing=False)
            job, looked = await self._run(job)
            if job is not None:
                self._got_job(continuing=True)
            elif looked:
                # Completing it found the queue empty: no need to claim again before idling.
                await self._idle_wait()

    async def _idle_wait(self) -> None:
        if self._missed_wakes:
            self._missed_wakes -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._idle.append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout=self._poll)
        except TimeoutError:
            with contextlib.suppress(ValueError):
                self._idle.remove(waiter)

    async def _claiming(self, step: Awaitable[T], claimed: Callable[[T], ClaimedJob | None]) -> T:
        """Await a step that may claim a job. Its transaction runs to the end even if we are
        cancelled meanwhile (drain timeout); a job it claimed then goes straight back."""
        task = asyncio.ensure_future(step)
        self._claims_in_flight += 1
        task.add_done_callback(lambda _: self._claim_landed())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                job = claimed(await task)
                if job is not None:
                    await self._queue.release(job)
            raise

    def _claim_landed(self) -> None:
        self._claims_in_flight -= 1

    async def _run(self, job: ClaimedJob) -> tuple[ClaimedJob | None, bool]:
        """Run `job` and record its outcome; the next job, when claimed on the way, and
        whether the queue was looked at on the way."""
        with (
            log_context(delivery_id=job.delivery_id, job_id=job.id),
            span("job", kind=job.kind, job_id=job.id, attempt=job.attempts),
        ):
            started = time.perf_counter()
            heartbeat = asyncio.create_task(self._heartbeat(job))
            try:
                outcome, following, looked = await self._execute(job)
            except asyncio.CancelledError:
                # Drain timed out mid-job: hand it back untried and let the cancel proceed.
                await asyncio.shield(self._queue.release(job))
                log.warning("job %d (%s) released unfinished at shutdown", job.id, job.kind)
                raise
            finally:
                heartbeat.cancel()
            if self._metrics is not None:
                self._metrics.job_seconds.labels(kind=job.kind, outcome=outcome).observe(
                    time.perf_counter() - started
                )
        return following, looked

    async def _execute(self, job: ClaimedJob) -> tuple[str, ClaimedJob | None, bool]:
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise PermanentJobError(f"no handler for job kind {job.kind!r}")
            await handler(job)
        except PermanentJobError as exc:
            await self._queue.fail(job, str(exc), permanent=True)
            log.error("job %d (%s) is dead: %s", job.id, job.kind, exc)
            return JobStatus.DEAD, None, False
        except Exception as exc:
            status = await self._queue.fail(job, f"{type(exc).__name__}: {exc}")
            # Our own errors say what went wrong in their message; anything else is a bug, and
            # its traceback is what finds it (secrets are redacted from it like from any line).
            expected = isinstance(exc, BackendReviewError)
            log.log(
                logging.WARNING if expected else logging.ERROR,
                "job %d (%s) attempt %d/%d failed (%s): %s: %s",
                job.id,
                job.kind,
                job.attempts,
                job.max_attempts,
                status,
                type(exc).__name__,
                exc,
                exc_info=None if expected else exc,
            )
            return ("retry" if status == JobStatus.QUEUED else JobStatus.DEAD), None, False
        following: ClaimedJob | None = None
        looked = not self._stopping.is_set()
        if not looked:
            ours = await self._queue.complete(job)
        else:
            ours, following = await self._claiming(
                self._queue.complete_and_claim(job), lambda done: done[1]
            )
            await self._close_buried()
        if not ours:
            log.warning("job %d finished after its lease was taken over", job.id)
            return "lost", following, looked
        log.info("job %d (%s) done", job.id, job.kind)
        return JobStatus.DONE, following, looked

    async def _close_buried(self) -> None:
        """Jobs a claim found out of attempts went dead without running: say so, and let their
        kind close what they left open (a review's check run must not spin forever)."""
        for buried in self._queue.take_buried():
            job = buried.job
            log.error("job %d (%s) is dead: %s", job.id, job.kind, buried.reason)
            hook = self._on_dead.get(job.kind)
            if hook is None:
                continue
            with log_context(delivery_id=job.delivery_id, job_id=job.id):
                try:
                    await hook(buried)
                except Exception as exc:
                    log.error(
                        "job %d (%s): closing after its death failed: %s: %s",
                        job.id,
                        job.kind,
                        type(exc).__name__,
                        exc,
                        exc_info=None if isinstance(exc, BackendReviewError) else exc,
                    )

    async def _heartbeat(self, job: ClaimedJob) -> None:
        interval = max(0.05, self._queue.lease_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                if not await self._queue.heartbeat(job):
                    log.warning("job %d: lease lost", job.id)
                    return
            except Exception as exc:  # noqa: BLE001 - try again at the next beat
                log.warning("job %d: heartbeat failed: %s", job.id, type(exc).__name__)
