"""The job queue on real SQLite and PostgreSQL (each test runs on both)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.jobs import Backoff, JobQueue, JobStatus, NewJob
from app.store.tables import jobs
from tests.conftest import FakeClock


def queue(engine: AsyncEngine, clock: FakeClock, name: str = "w1", **kw: object) -> JobQueue:
    return JobQueue(engine, worker_id=name, lease_seconds=60, clock=clock, **kw)  # type: ignore[arg-type]


async def status_of(engine: AsyncEngine) -> list[tuple[int, str, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(jobs.c.id, jobs.c.status, jobs.c.attempts).order_by(jobs.c.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_claims_in_order_and_completes(engine: AsyncEngine, clock: FakeClock) -> None:
    q = queue(engine, clock)
    await q.enqueue([NewJob("review", {"n": 1}), NewJob("review", {"n": 2})])
    first = await q.claim()
    second = await q.claim()
    assert first is not None
    assert second is not None
    assert (first.payload, second.payload) == ({"n": 1}, {"n": 2})
    assert await q.claim() is None
    assert await q.complete(first)
    assert await q.complete(second)
    assert [s for _, s, _ in await status_of(engine)] == ["done", "done"]


async def test_expired_lease_is_claimed_again_and_completes_once(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    dead_worker = queue(engine, clock, "dies")
    survivor = queue(engine, clock, "lives")
    await dead_worker.enqueue([NewJob("review", {"pr": 7})])
    taken = await dead_worker.claim()
    assert taken is not None
    assert await survivor.claim() is None, "a live lease must not be taken"
    clock.advance(61)
    again = await survivor.claim()
    assert again is not None
    assert again.id == taken.id
    assert again.attempts == 2
    assert await survivor.complete(again)
    # The dead worker coming back cannot finish it a second time.
    assert not await dead_worker.complete(taken)
    assert await status_of(engine) == [(taken.id, "done", 2)]


async def test_heartbeat_keeps_the_lease(engine: AsyncEngine, clock: FakeClock) -> None:
    q = queue(engine, clock)
    other = queue(engine, clock, "other")
    await q.enqueue([NewJob("review", {})])
    job = await q.claim()
    assert job is not None
    clock.advance(50)
    assert await q.heartbeat(job)
    clock.advance(50)
    assert await other.claim() is None
    clock.advance(11)
    assert await other.claim() is not None
    assert not await q.heartbeat(job), "a lease taken over is reported lost"


async def test_failure_retries_with_backoff_then_dies(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    q = queue(engine, clock, max_attempts=3, backoff=Backoff(base_seconds=10, cap_seconds=15))
    await q.enqueue([NewJob("review", {})])
    job = await q.claim()
    assert job is not None
    assert await q.fail(job, "boom 1") == JobStatus.QUEUED
    assert await q.claim() is None, "backoff not respected"
    clock.advance(10)
    job = await q.claim()
    assert job is not None
    assert job.attempts == 2
    assert await q.fail(job, "boom 2") == JobStatus.QUEUED
    clock.advance(14)
    assert await q.claim() is None, "second backoff is 15 s (capped)"
    clock.advance(1)
    job = await q.claim()
    assert job is not None
    assert job.attempts == 3
    assert await q.fail(job, "boom 3") == JobStatus.DEAD
    clock.advance(3600)
    assert await q.claim() is None
    async with engine.connect() as conn:
        row = (await conn.execute(select(jobs))).one()
    assert (row.status, row.attempts, row.last_error) == ("dead", 3, "boom 3")


async def test_permanent_failure_dies_at_once(engine: AsyncEngine, clock: FakeClock) -> None:
    q = queue(engine, clock)
    await q.enqueue([NewJob("review", {})])
    job = await q.claim()
    assert job is not None
    assert await q.fail(job, "unreadable payload", permanent=True) == JobStatus.DEAD


async def test_a_job_whose_workers_keep_dying_goes_dead(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    q = queue(engine, clock, max_attempts=2)
    await q.enqueue([NewJob("review", {})])
    for _ in range(2):
        assert await q.claim() is not None
        clock.advance(61)
    assert q.take_buried() == []
    assert await q.claim() is None
    [(_, status, attempts)] = await status_of(engine)
    assert (status, attempts) == ("dead", 3)
    # The claim that buried it hands it out once, for its check run to be closed.
    [buried] = q.take_buried()
    assert (buried.job.kind, buried.job.attempts) == ("review", 3)
    assert buried.reason == "lease expired on each of 2 attempts"
    assert q.take_buried() == []


async def test_release_gives_the_job_back_untried(engine: AsyncEngine, clock: FakeClock) -> None:
    q = queue(engine, clock)
    await q.enqueue([NewJob("review", {})])
    job = await q.claim()
    assert job is not None
    await q.release(job)
    again = await q.claim()
    assert again is not None
    assert again.id == job.id
    assert again.attempts == 1


async def test_new_review_supersedes_queued_one_for_same_pr(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    q = queue(engine, clock)
    await q.enqueue([NewJob("review", {"head": 1}, coalesce_key="review:1:7")])
    running_job = None
    await q.enqueue([NewJob("review", {"head": 2}, coalesce_key="review:1:7")])
    running_job = await q.claim()
    assert running_job is not None
    assert running_job.payload == {"head": 2}
    # A running job is not superseded (it will notice the newer head itself).
    await q.enqueue([NewJob("review", {"head": 3}, coalesce_key="review:1:7")])
    assert [s for _, s, _ in await status_of(engine)] == ["superseded", "running", "queued"]


async def test_counts_cover_every_state(engine: AsyncEngine, clock: FakeClock) -> None:
    q = queue(engine, clock)
    await q.enqueue([NewJob("a", {}), NewJob("b", {})])
    job = await q.claim()
    assert job is not None
    counts = await q.counts()
    assert counts["queued"] == 1
    assert counts["running"] == 1
    assert counts["dead"] == 0
    assert set(counts) == {s.value for s in JobStatus}
