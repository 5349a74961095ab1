"""SQLite transactions run on the store's own thread: committed on return, rolled back on error."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store import migrate
from app.store.db import run_transaction
from app.store.jobs import JobQueue, NewJob
from app.store.tables import jobs


async def test_run_transaction_rolls_back_on_error(sqlite_engine: AsyncEngine) -> None:
    await migrate.upgrade(sqlite_engine)
    queue = JobQueue(sqlite_engine, worker_id="w")
    await queue.enqueue([NewJob("review", {})])

    def fail_midway(conn: Connection) -> None:
        conn.execute(jobs.update().values(status="done"))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await run_transaction(sqlite_engine, fail_midway)
    async with sqlite_engine.connect() as conn:
        assert (await conn.execute(select(jobs.c.status))).scalars().all() == ["queued"]


async def test_store_survives_engine_dispose(sqlite_engine: AsyncEngine) -> None:
    await migrate.upgrade(sqlite_engine)
    queue = JobQueue(sqlite_engine, worker_id="w")
    await queue.enqueue([NewJob("review", {})])
    await sqlite_engine.dispose()
    job = await queue.claim()
    assert job is not None
    assert await queue.complete(job)
