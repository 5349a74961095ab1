"""The worker: claims jobs, runs them with a heartbeat on the lease, records the outcome.

`concurrency` slots each loop claim → run → complete/fail. Stopping drains: no new claims,
in-flight jobs get `drain_seconds` to finish, and any still running are released back to the
queue untried, so another worker (or this one after a restart) picks them up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping

from app.logs import log_context
from app.metrics import Metrics
from app.pipeline import JobHandler, PermanentJobError
from app.store.jobs import ClaimedJob, JobQueue, JobStatus

log = logging.getLogger(__name__)


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
    ) -> None:
        self._queue = queue
        self._handlers = handlers
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._drain = drain_seconds
        self._metrics = metrics
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._slots: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        """New jobs were queued in this process: look now rather than at the next poll."""
        self._wake.set()

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
        self._wake.set()
        _, pending = await asyncio.wait(self._slots, timeout=self._drain)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._slots, return_exceptions=True)
        self._slots = []
        log.info("worker %s stopped", self._queue.worker_id)

    async def run_until_stopped(self) -> None:
        self.start()
        await self._stopping.wait()

    async def _slot(self) -> None:
        while not self._stopping.is_set():
            try:
                job = await self._queue.claim()
            except Exception as exc:  # noqa: BLE001 - the database may be back soon
                log.warning("could not claim a job: %s", type(exc).__name__)
                job = None
            if job is None:
                await self._idle()
                continue
            await self._run(job)

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
        self._wake.clear()

    async def _run(self, job: ClaimedJob) -> None:
        with log_context(delivery_id=job.delivery_id, job_id=job.id):
            started = time.perf_counter()
            heartbeat = asyncio.create_task(self._heartbeat(job))
            try:
                outcome = await self._execute(job)
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

    async def _execute(self, job: ClaimedJob) -> str:
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise PermanentJobError(f"no handler for job kind {job.kind!r}")
            await handler(job)
        except PermanentJobError as exc:
            await self._queue.fail(job, str(exc), permanent=True)
            log.error("job %d (%s) is dead: %s", job.id, job.kind, exc)
            return JobStatus.DEAD
        except Exception as exc:  # noqa: BLE001 - a job's failure must not end the worker
            status = await self._queue.fail(job, f"{type(exc).__name__}: {exc}")
            log.warning(
                "job %d (%s) attempt %d/%d failed (%s): %s",
                job.id,
                job.kind,
                job.attempts,
                job.max_attempts,
                status,
                type(exc).__name__,
            )
            return "retry" if status == JobStatus.QUEUED else JobStatus.DEAD
        if not await self._queue.complete(job):
            log.warning("job %d finished after its lease was taken over", job.id)
            return "lost"
        log.info("job %d (%s) done", job.id, job.kind)
        return JobStatus.DONE

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
