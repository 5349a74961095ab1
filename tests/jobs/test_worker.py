"""The worker against a real SQLite file: runs, retries, recovers, drains."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import PermanentJobError
from app.github.types import GitHubError
from app.jobs.handlers import JobHandler
from app.jobs.worker import Worker
from app.store import migrate
from app.store.jobs import Backoff, ClaimedJob, JobQueue, NewJob
from app.store.tables import jobs
from tests.conftest import FakeClock, wait_for


def make_worker(
    queue: JobQueue, handlers: dict[str, JobHandler], *, drain: float = 2.0, slots: int = 2
) -> Worker:
    return Worker(queue, handlers, concurrency=slots, poll_seconds=0.02, drain_seconds=drain)


async def rows(engine: AsyncEngine) -> list[tuple[int, str, int, str | None]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(jobs.c.id, jobs.c.status, jobs.c.attempts, jobs.c.last_error).order_by(jobs.c.id)
        )
        return [tuple(r) for r in result]  # type: ignore[misc]


def statuses(engine: AsyncEngine, expected: list[str]) -> Callable[[], object]:
    async def check() -> bool:
        return [r[1] for r in await rows(engine)] == expected

    return check


async def test_runs_each_queued_job_once(sqlite_engine: AsyncEngine) -> None:
    await migrate.upgrade(sqlite_engine)
    queue = JobQueue(sqlite_engine, worker_id="w")
    seen: list[int] = []

    async def handler(job: ClaimedJob) -> None:
        seen.append(job.payload["n"])

    worker = make_worker(queue, {"review": handler})
    worker.start()
    try:
        await queue.enqueue([NewJob("review", {"n": i}) for i in range(20)])
        worker.wake()
        await wait_for(statuses(sqlite_engine, ["done"] * 20))
    finally:
        await worker.stop()
    assert sorted(seen) == list(range(20))


async def test_failures_are_retried_then_dead_with_the_error(sqlite_engine: AsyncEngine) -> None:
    await migrate.upgrade(sqlite_engine)
    queue = JobQueue(
        sqlite_engine, worker_id="w", max_attempts=3, backoff=Backoff(base_seconds=0, cap_seconds=0)
    )
    calls = 0

    async def flaky(job: ClaimedJob) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("GitHub said 502")

    worker = make_worker(queue, {"review": flaky})
    worker.start()
    try:
        await queue.enqueue([NewJob("review", {})])
        await wait_for(statuses(sqlite_engine, ["dead"]))
    finally:
        await worker.stop()
    assert calls == 3
    [(_, _, attempts, error)] = await rows(sqlite_engine)
    assert attempts == 3
    assert error == "RuntimeError: GitHub said 502"


async def test_an_unexpected_exception_is_logged_with_message_and_traceback(
    sqlite_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    await migrate.upgrade(sqlite_engine)
    queue = JobQueue(sqlite_engine, worker_id="w", max_attempts=1)

    async def buggy(job: ClaimedJob) -> None:
        raise KeyError("head_sha")

    async def expected(job: ClaimedJob) -> None:
        raise GitHubError("GitHub answered 502", status=502, transient=True)

    worker = make_worker(queue, {"review": buggy, "command": expected})
    caplog.set_level(logging.WARNING, logger="app.jobs.worker")
    worker.start()
    try:
        await queue.enqueue([NewJob("review", {}), NewJob("command", {})])
        await wait_for(statuses(sqlite_engine, ["dead", "dead"]))
    finally:
        await worker.stop()
    [bug] = [r for r in caplog.records if "(review)" in r.getMessage()]
    assert bug.levelno == logging.ERROR
    assert "KeyError: 'head_sha'" in bug.getMessage()
    assert caplog.text.count("Traceback (most recent call last)") == 1  # the bug's, not ours
    assert 'raise KeyError("head_sha")' in caplog.text
    [ours] = [r for r in caplog.records if "(command)" in r.getMessage()]
    assert ours.levelno == logging.WARNING
    assert "GitHubError: GitHub answered 502" in ours.getMessage()
    assert ours.exc_info is None  # an expected error says enough in its message


async def test_permanent_errors_and_unknown_kinds_die_at_once(sqlite_engine: AsyncEngine) -> None:
    await migrate.upgrade(sqlite_engine)
    queue = JobQueue(sqlite_engine, worker_id="w")

    async def unreadable(job: ClaimedJob) -> None:
        raise PermanentJobError("unreadable review payload")

    worker = make_worker(queue, {"review": unreadable})
    worker.start()
    try:
        await queue.enqueue([NewJob("review", {}), NewJob("mystery", {})])
        await wait_for(statuses(sqlite_engine, ["dead", "dead"]))
    finally:
        await worker.stop()
    errors = [r[3] for r in await rows(sqlite_engine)]
    assert errors == ["unreadable review payload", "no handler for job kind 'mystery'"]


async def test_job_of_a_worker_that_died_is_run_again_once(
    sqlite_engine: AsyncEngine, clock: FakeClock
) -> None:
    await migrate.upgrade(sqlite_engine)
    crashed = JobQueue(sqlite_engine, worker_id="crashed", lease_seconds=30, clock=clock)
    await crashed.enqueue([NewJob("review", {"pr": 7})])
    assert await crashed.claim() is not None  # …and then the process was killed -9
    runs: list[int] = []

    async def handler(job: ClaimedJob) -> None:
        runs.append(job.attempts)

    survivor = JobQueue(sqlite_engine, worker_id="survivor", lease_seconds=30, clock=clock)
    worker = make_worker(survivor, {"review": handler})
    worker.start()
    try:
        await asyncio.sleep(0.1)
        assert runs == [], "a live lease was stolen"
        clock.advance(31)
        await wait_for(statuses(sqlite_engine, ["done"]))
        await asyncio.sleep(0.1)
    finally:
        await worker.stop()
    assert runs == [2]


async def test_drain_lets_a_short_job_finish(sqlite_engine: AsyncEngine) -> None:
    await migrate.upgrade(sqlite_engine)
    queue = JobQueue(sqlite_engine, worker_id="w")
    started = asyncio.Event()

    async def slow(job: ClaimedJob) -> None:
        started.set()
        await asyncio.sleep(0.2)

    worker = make_worker(queue, {"review": slow}, drain=5)
    worker.start()
    await queue.enqueue([NewJob("review", {})])
    worker.wake()
    await asyncio.wait_for(started.wait(), 5)
    await worker.stop()
    assert [r[1] for r in await rows(sqlite_engine)] == ["done"]


async def test_drain_timeout_releases_the_job_untried(sqlite_engine: AsyncEngine) -> None:
    await migrate.upgrade(sqlite_engine)
    queue = JobQueue(sqlite_engine, worker_id="w")
    started = asyncio.Event()

    async def stuck(job: ClaimedJob) -> None:
        started.set()
        await asyncio.Event().wait()

    worker = make_worker(queue, {"review": stuck}, drain=0.1)
    worker.start()
    await queue.enqueue([NewJob("review", {})])
    worker.wake()
    await asyncio.wait_for(started.wait(), 5)
    await worker.stop()
    [(_, status, attempts, _)] = await rows(sqlite_engine)
    assert (status, attempts) == ("queued", 0)
    again = await JobQueue(sqlite_engine, worker_id="next").claim()
    assert again is not None


async def test_heartbeat_keeps_a_long_job_ours(sqlite_engine: AsyncEngine) -> None:
    await migrate.upgrade(sqlite_engine)
    queue = JobQueue(sqlite_engine, worker_id="w", lease_seconds=0.3)
    thief = JobQueue(sqlite_engine, worker_id="thief", lease_seconds=0.3)
    stolen: list[ClaimedJob | None] = []

    async def long(job: ClaimedJob) -> None:
        await asyncio.sleep(0.5)
        stolen.append(await thief.claim())
        await asyncio.sleep(0.3)

    worker = make_worker(queue, {"review": long}, slots=1)
    worker.start()
    try:
        await queue.enqueue([NewJob("review", {})])
        await wait_for(statuses(sqlite_engine, ["done"]))
    finally:
        await worker.stop()
    assert stolen == [None]
