"""The durable job queue: enqueue, claim with a lease, heartbeat, complete, fail, release.

A claim is one atomic statement on both dialects:

    UPDATE jobs SET status='running', attempts=attempts+1, locked_by=…, lease_expires_at=…
    WHERE id = (SELECT id FROM jobs WHERE <claimable> ORDER BY id LIMIT 1 [FOR UPDATE SKIP LOCKED])
      AND <claimable>
    RETURNING …

PostgreSQL skips rows other claimers hold; SQLite ignores SKIP LOCKED but runs one writer at a
time, and the repeated condition makes the UPDATE a no-op if the row was taken meanwhile.
"claimable" is queued and due, or running with an expired lease (its worker died).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    String,
    Update,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.db import is_postgres, run_transaction
from app.store.tables import UtcDateTime, jobs

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class NewJob:
    kind: str
    payload: Mapping[str, Any]
    # Jobs sharing a key coalesce: a new one supersedes the queued older ones (one PR, one review).
    coalesce_key: str | None = None


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    delivery_id: str | None
    lease_expires_at: datetime


@dataclass(frozen=True)
class BuriedJob:
    """A job that went dead while being claimed: its lease expired on its last attempt (the
    workers running it kept dying), so it never ran to an end and nothing recorded why."""

    job: ClaimedJob  # the row as it was claimed the last time (attempts past max_attempts)
    reason: str


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 10.0
    cap_seconds: float = 600.0

    def delay(self, attempts: int) -> timedelta:
        return timedelta(
            seconds=min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        )


# The hot statements are built once, with named parameters: building a SQLAlchemy expression
# and its cache key costs far more CPU than running the statement (~0.6 ms for the claim).
# Parameter names must differ from column names (SQLAlchemy reserves those for SET values).
def now_param() -> Any:
    return bindparam("p_now", type_=UtcDateTime())


_INSERT_JOBS: Insert = insert(jobs)


def _supersede(match: Any) -> Update:
    return (
        update(jobs)
        .where(match, jobs.c.status == JobStatus.QUEUED)
        .values(status=JobStatus.SUPERSEDED, updated_at=now_param(), finished_at=now_param())
    )


# One key (a delivery at a time, below saturation): `=`, whose SQL is fixed. Several keys (a
# batch): an expanding IN, re-rendered per call but one statement for the whole batch.
_SUPERSEDE_ONE: Update = _supersede(jobs.c.coalesce_key == bindparam("p_key", type_=String()))
_SUPERSEDE_MANY: Update = _supersede(jobs.c.coalesce_key.in_(bindparam("p_keys", expanding=True)))


@functools.cache
def _claim_statement(postgres: bool) -> Update:
    now = now_param()
    claimable = or_(
        and_(jobs.c.status == JobStatus.QUEUED, jobs.c.run_after <= now),
        and_(jobs.c.status == JobStatus.RUNNING, jobs.c.lease_expires_at < now),
    )
    pick = select(jobs.c.id).where(claimable).order_by(jobs.c.id).limit(1)
    if postgres:
        pick = pick.with_for_update(skip_locked=True)
    return (
        update(jobs)
        .where(jobs.c.id == pick.scalar_subquery(), claimable)
        .values(
            status=JobStatus.RUNNING,
            attempts=jobs.c.attempts + 1,
            locked_by=bindparam("p_worker", type_=String()),
            lease_expires_at=bindparam("p_lease", type_=UtcDateTime()),
            updated_at=now,
        )
        .returning(
            jobs.c.id,
            jobs.c.kind,
            jobs.c.payload,
            jobs.c.attempts,
            jobs.c.max_attempts,
            jobs.c.delivery_id,
            jobs.c.lease_expires_at,
        )
    )


@functools.cache
def _finish_statement(owned: bool, with_error: bool) -> Update:
    stmt = update(jobs).where(jobs.c.id == bindparam("p_job"))
    if owned:
        stmt = stmt.where(
            jobs.c.status == JobStatus.RUNNING,
            jobs.c.locked_by == bindparam("p_worker", type_=String()),
        )
    values: dict[str, Any] = {
        "status": bindparam("p_status", type_=String()),
        "lease_expires_at": None,
        "updated_at": now_param(),
        "finished_at": now_param(),
    }
    if with_error:
        values["last_error"] = bindparam("p_error", type_=String())
    return stmt.values(**values).returning(jobs.c.id)


def insert_jobs(
    conn: Connection,
    items: Sequence[tuple[str | None, NewJob]],
    *,
    now: datetime,
    max_attempts: int,
) -> None:
    """Insert jobs (each with its delivery id), superseding queued jobs with the same key."""
    if not items:
        return
    keys = {job.coalesce_key for _, job in items if job.coalesce_key}
    if keys:
        if len(keys) == 1:
            conn.execute(_SUPERSEDE_ONE, {"p_key": next(iter(keys)), "p_now": now})
        else:
            conn.execute(_SUPERSEDE_MANY, {"p_keys": sorted(keys), "p_now": now})
    # Within one batch only the last job per key stays queued.
    last_for_key = {job.coalesce_key: i for i, (_, job) in enumerate(items) if job.coalesce_key}
    rows = [
        {
            "delivery_id": delivery_id,
            "kind": job.kind,
            "status": JobStatus.QUEUED
            if job.coalesce_key is None or last_for_key[job.coalesce_key] == i
            else JobStatus.SUPERSEDED,
            "payload": json.dumps(job.payload, separators=(",", ":")),
            "coalesce_key": job.coalesce_key,
            "attempts": 0,
            "max_attempts": max_attempts,
            "run_after": now,
            "created_at": now,
            "updated_at": now,
        }
        for i, (delivery_id, job) in enumerate(items)
    ]
    conn.execute(_INSERT_JOBS, rows)


@dataclass
class JobQueue:
    engine: AsyncEngine
    worker_id: str
    lease_seconds: float = 300.0
    max_attempts: int = 5
    backoff: Backoff = field(default_factory=Backoff)
    clock: Clock = utcnow
    _buried: list[BuriedJob] = field(default_factory=list, init=False, repr=False, compare=False)

    async def enqueue(self, new: Sequence[NewJob], *, delivery_id: str | None = None) -> None:
        now = self.clock()
        items = [(delivery_id, job) for job in new]

        def work(conn: Connection) -> None:
            insert_jobs(conn, items, now=now, max_attempts=self.max_attempts)

        await run_transaction(self.engine, work)

    async def claim(self) -> ClaimedJob | None:
        """Take the oldest claimable job, or None. Jobs out of attempts go dead on the way
        (`take_buried` hands them out once the transaction has committed)."""
        now = self.clock()
        postgres = is_postgres(self.engine)
        buried: list[BuriedJob] = []
        job = await run_transaction(
            self.engine, lambda conn: self._claim(conn, now, postgres, buried)
        )
        self._buried.extend(buried)
        return job

    def take_buried(self) -> list[BuriedJob]:
        """The jobs this queue's claims marked dead since the last call (each handed out once):
        whatever they left behind (a check run in progress) is the caller's to close."""
        taken, self._buried[:] = list(self._buried), []
        return taken

    def _claim(
        self, conn: Connection, now: datetime, postgres: bool, buried: list[BuriedJob]
    ) -> ClaimedJob | None:
        stmt = _claim_statement(postgres)
        params = {
            "p_now": now,
            "p_lease": now + timedelta(seconds=self.lease_seconds),
            "p_worker": self.worker_id,
        }
        while True:
            row = conn.execute(stmt, params).first()
            if row is None:
                return None
            job = ClaimedJob(
                id=row.id,
                kind=row.kind,
                payload=json.loads(row.payload),
                attempts=row.attempts,
                max_attempts=row.max_attempts,
                delivery_id=row.delivery_id,
                lease_expires_at=row.lease_expires_at,
            )
            if row.attempts <= row.max_attempts:
                return job
            # Its workers kept dying mid-run: stop feeding it to new ones.
            reason = f"lease expired on each of {row.max_attempts} attempts"
            self._finish(conn, row.id, JobStatus.DEAD, now, error=reason)
            buried.append(BuriedJob(job, reason))

    async def heartbeat(self, job: ClaimedJob) -> bool:
        """Extend the lease; False if the job is no longer ours."""
        now = self.clock()
        stmt = (
            self._owned(job.id)
            .values(lease_expires_at=now + timedelta(seconds=self.lease_seconds), updated_at=now)
            .returning(jobs.c.id)
        )
        return await run_transaction(
            self.engine, lambda conn: conn.execute(stmt).first() is not None
        )

    async def complete(self, job: ClaimedJob) -> bool:
        now = self.clock()
        return await run_transaction(
            self.engine,
            lambda conn: self._finish(conn, job.id, JobStatus.DONE, now, owned=True),
        )

    async def complete_and_claim(self, job: ClaimedJob) -> tuple[bool, ClaimedJob | None]:
        """`complete(job)`, then `claim()`, in one transaction: a busy worker pays one commit
        per job instead of two. The claim is the same atomic statement as in `claim`."""
        now = self.clock()
        postgres = is_postgres(self.engine)

        buried: list[BuriedJob] = []

        def work(conn: Connection) -> tuple[bool, ClaimedJob | None]:
            ours = self._finish(conn, job.id, JobStatus.DONE, now, owned=True)
            return ours, self._claim(conn, now, postgres, buried)

        done = await run_transaction(self.engine, work)
        self._buried.extend(buried)
        return done

    async def fail(self, job: ClaimedJob, error: str, *, permanent: bool = False) -> JobStatus:
        """Record a failed attempt: back to the queue after a backoff, or dead when out of tries
        (or at once when `permanent`: retrying cannot help)."""
        now = self.clock()
        if permanent or job.attempts >= job.max_attempts:
            await run_transaction(
                self.engine,
                lambda conn: self._finish(
                    conn, job.id, JobStatus.DEAD, now, error=error, owned=True
                ),
            )
            return JobStatus.DEAD
        stmt = self._owned(job.id).values(
            status=JobStatus.QUEUED,
            run_after=now + self.backoff.delay(job.attempts),
            lease_expires_at=None,
            locked_by=None,
            last_error=error[:4000],
            updated_at=now,
        )
        await run_transaction(self.engine, lambda conn: conn.execute(stmt))
        return JobStatus.QUEUED

    async def release(self, job: ClaimedJob) -> None:
        """Give a job back untried (shutdown): it keeps its place and does not use up an attempt."""
        now = self.clock()
        stmt = self._owned(job.id).values(
            status=JobStatus.QUEUED,
            attempts=jobs.c.attempts - 1,
            run_after=now,
            lease_expires_at=None,
            locked_by=None,
            updated_at=now,
        )
        await run_transaction(self.engine, lambda conn: conn.execute(stmt))

    async def counts(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status))
            found = {status: count for status, count in rows}
        return {s.value: int(found.get(s.value, 0)) for s in JobStatus}

    def _owned(self, job_id: int) -> Any:
        return update(jobs).where(
            jobs.c.id == job_id,
            jobs.c.status == JobStatus.RUNNING,
            jobs.c.locked_by == self.worker_id,
        )

    def _finish(
        self,
        conn: Connection,
        job_id: int,
        status: JobStatus,
        now: datetime,
        *,
        error: str | None = None,
        owned: bool = False,
    ) -> bool:
        params: dict[str, Any] = {"p_job": job_id, "p_status": status, "p_now": now}
        if owned:
            params["p_worker"] = self.worker_id
        if error is not None:
            params["p_error"] = error[:4000]
        result = conn.execute(_finish_statement(owned, error is not None), params)
        return result.first() is not None


# A newer job with the key is still to run (queued, or retrying after a failure) or is running.
_NEWER_PENDING = (
    select(jobs.c.id)
    .where(
        jobs.c.coalesce_key == bindparam("p_key", type_=String()),
        jobs.c.id > bindparam("p_job"),
        jobs.c.status.in_([JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE]),
    )
    .limit(1)
)


async def newer_review_queued(engine: AsyncEngine, coalesce_key: str, *, than_job_id: int) -> bool:
    """Whether a job newer than `than_job_id` with the same key is queued, running or done: the
    review of job `than_job_id` is then out of date (a newer push, a command, the PR closed),
    and publishing it would duplicate or overwrite the newer one's. A newer job that is done
    has already published (or found the PR closed); superseded and dead ones do not count."""
    params = {"p_key": coalesce_key, "p_job": than_job_id}
    return await run_transaction(
        engine, lambda conn: conn.execute(_NEWER_PENDING, params).first() is not None
    )
