"""Several workers, each with its own connection pool, race for 500 jobs on real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from app.store import migrate
from app.store.jobs import JobQueue, NewJob
from app.store.tables import jobs
from tests.conftest import POSTGRES_URL, postgres_schema

N_JOBS = 500
N_WORKERS = 6


async def test_500_jobs_each_run_exactly_once() -> None:
    async with postgres_schema() as setup_engine:
        await migrate.upgrade(setup_engine)
        await JobQueue(setup_engine, worker_id="seed").enqueue(
            [NewJob("review", {"n": i}) for i in range(N_JOBS)]
        )
        search_path = await _search_path(setup_engine)
        ran: Counter[int] = Counter()
        by_worker: Counter[str] = Counter()

        async def work(name: str) -> None:
            from app.store.db import make_engine

            engine = make_engine(
                POSTGRES_URL, connect_args={"server_settings": {"search_path": search_path}}
            )
            queue = JobQueue(engine, worker_id=name, lease_seconds=120)
            try:
                while (job := await queue.claim()) is not None:
                    ran[job.payload["n"]] += 1
                    by_worker[name] += 1
                    await asyncio.sleep(0)  # let the others interleave
                    assert await queue.complete(job)
            finally:
                await engine.dispose()

        await asyncio.gather(*(work(f"w{i}") for i in range(N_WORKERS)))

        assert sorted(ran) == list(range(N_JOBS))
        assert set(ran.values()) == {1}, "some job ran twice"
        assert len(by_worker) > 1, "the race never happened: one worker took everything"
        async with setup_engine.connect() as conn:
            done = await conn.execute(
                select(func.count()).select_from(jobs).where(jobs.c.status == "done")
            )
            assert done.scalar_one() == N_JOBS


async def _search_path(engine: object) -> str:
    from sqlalchemy import text

    async with engine.connect() as conn:  # type: ignore[attr-defined]
        return str((await conn.execute(text("SELECT current_schema()"))).scalar_one())
