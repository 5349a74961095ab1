"""Jobs by hand: what `backend-review jobs ...` lists, retries and cancels.

Outside the worker's claim loop (app/store/jobs.py): each change is one UPDATE whose WHERE
repeats the state it expects, so a job a worker claims at the same moment is never changed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Update, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.db import run_transaction
from app.store.jobs import JobStatus, now_param
from app.store.tables import jobs

# ----- what an operator does by hand (`backend-review jobs ...`) -----------------------------


@dataclass(frozen=True)
class JobRow:
    id: int
    kind: str
    status: str
    attempts: int
    max_attempts: int
    payload: dict[str, Any]
    delivery_id: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


CANCELLED_ERROR = "cancelled by an operator (backend-review jobs cancel)"


async def list_jobs(
    engine: AsyncEngine, *, status: str | None = None, kind: str | None = None, limit: int = 50
) -> list[JobRow]:
    """The newest jobs first, optionally of one status and kind."""
    stmt = select(jobs).order_by(jobs.c.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(jobs.c.status == status)
    if kind is not None:
        stmt = stmt.where(jobs.c.kind == kind)
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return [_job_row(row) for row in rows]


def _job_row(row: Any) -> JobRow:
    try:
        payload = json.loads(row.payload)
    except ValueError:
        payload = {}
    return JobRow(
        id=row.id,
        kind=row.kind,
        status=row.status,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        payload=payload if isinstance(payload, dict) else {},
        delivery_id=row.delivery_id,
        last_error=row.last_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@dataclass(frozen=True)
class Change:
    """What an operator's request did to one job: `before` is None for a job that does not
    exist, `after` None when the job was left as it was."""

    id: int
    before: str | None
    after: str | None


async def retry_jobs(engine: AsyncEngine, ids: Sequence[int], *, now: datetime) -> list[Change]:
    """Dead or done jobs back to the queue, due now, with their attempts reset."""
    stmt = (
        update(jobs)
        .where(jobs.c.id == bindparam("p_job"), jobs.c.status.in_([JobStatus.DEAD, JobStatus.DONE]))
        .values(
            status=JobStatus.QUEUED,
            attempts=0,
            run_after=now_param(),
            lease_expires_at=None,
            locked_by=None,
            finished_at=None,
            updated_at=now_param(),
        )
        .returning(jobs.c.id)
    )
    return await _change(engine, ids, stmt, JobStatus.QUEUED, now)


async def cancel_jobs(engine: AsyncEngine, ids: Sequence[int], *, now: datetime) -> list[Change]:
    """Queued jobs out of the queue for good (`superseded`, with `last_error` saying who)."""
    stmt = (
        update(jobs)
        .where(jobs.c.id == bindparam("p_job"), jobs.c.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.SUPERSEDED,
            last_error=CANCELLED_ERROR,
            updated_at=now_param(),
            finished_at=now_param(),
        )
        .returning(jobs.c.id)
    )
    return await _change(engine, ids, stmt, JobStatus.SUPERSEDED, now)


async def _change(
    engine: AsyncEngine, ids: Sequence[int], stmt: Update, after: JobStatus, now: datetime
) -> list[Change]:
    # The status test is in the UPDATE itself: a worker that claims the job between our read
    # and our write makes the write a no-op, never a running job put back in the queue.
    # On PostgreSQL the row is also locked from the read on, so `before` is what we changed.
    read = select(jobs.c.status).where(jobs.c.id == bindparam("p_job")).with_for_update()

    def work(conn: Connection) -> list[Change]:
        changes = []
        for job_id in dict.fromkeys(ids):
            before = conn.execute(read, {"p_job": job_id}).scalar()
            done = conn.execute(stmt, {"p_job": job_id, "p_now": now}).first() is not None
            changes.append(Change(job_id, before, after if done else None))
        return changes

    return await run_transaction(engine, work)
