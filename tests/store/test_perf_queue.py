"""Cheaper queue paths added for intake performance, on real SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.jobs import JobQueue, NewJob
from app.store.tables import jobs
from tests.conftest import FakeClock


async def states(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(jobs.c.status).order_by(jobs.c.id))
        return [r[0] for r in rows]


async def test_complete_and_claim_finishes_then_takes_the_next(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    q = JobQueue(engine, worker_id="w1", lease_seconds=60, clock=clock)
    await q.enqueue([NewJob("review", {"n": 1}), NewJob("review", {"n": 2})])
    first = await q.claim()
    assert first is not None
    ours, second = await q.complete_and_claim(first)
    assert ours
    assert second is not None
    assert second.payload == {"n": 2}
    assert await states(engine) == ["done", "running"]
    ours, none = await q.complete_and_claim(second)
    assert (ours, none) == (True, None)
    assert await states(engine) == ["done", "done"]


async def test_complete_and_claim_after_losing_the_lease(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    slow = JobQueue(engine, worker_id="slow", lease_seconds=60, clock=clock)
    other = JobQueue(engine, worker_id="other", lease_seconds=60, clock=clock)
    await slow.enqueue([NewJob("review", {"n": 1})])
    job = await slow.claim()
    assert job is not None
    clock.advance(61)
    taken = await other.claim()
    assert taken is not None
    assert taken.id == job.id
    # Not ours any more: nothing is recorded, and the job stays with its new owner.
    assert await slow.complete_and_claim(job) == (False, None)
    assert await states(engine) == ["running"]
    assert await other.complete(taken)
    assert await states(engine) == ["done"]


async def test_one_batch_supersedes_queued_jobs_for_several_keys(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    q = JobQueue(engine, worker_id="w1", lease_seconds=60, clock=clock)
    await q.enqueue([NewJob("review", {"pr": 1}, "o/r#1"), NewJob("review", {"pr": 2}, "o/r#2")])
    await q.enqueue([NewJob("review", {"pr": 1}, "o/r#1")])  # one key: the `=` statement
    await q.enqueue(
        [
            NewJob("review", {"pr": 1}, "o/r#1"),
            NewJob("review", {"pr": 2}, "o/r#2"),
            NewJob("review", {"pr": 3}, "o/r#3"),
        ]
    )  # several keys: the IN statement
    assert await states(engine) == [
        "superseded",
        "superseded",
        "superseded",
        "queued",
        "queued",
        "queued",
    ]
