"""Storing webhook deliveries and the jobs they create, with group commit.

Every delivery is stored with its jobs in one transaction before we answer 202. Under load,
requests that arrive while a commit is in flight wait for the next one and share it, so the
cost of a durable commit (an fsync on SQLite) is paid once per batch instead of once per
delivery. A batch is all-or-nothing; within it each delivery is deduplicated on its id.

A delivery whose body was stored before under another id is a replay, not stored (`REPLAYED`):
GitHub's signature covers only the body, and its own redelivery keeps the delivery id, so a
signed body under a new id comes from someone who read it (a webhook channel shows every
signed body to anyone with its address). The body's sha256 is stored with the delivery, so
this holds across restarts and as long as the delivery row is kept.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Insert, Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import StoreError
from app.store.db import is_postgres, run_transaction
from app.store.jobs import Clock, NewJob, insert_jobs, utcnow
from app.store.tables import deliveries, jobs

log = logging.getLogger(__name__)

_IN_CHUNK = 500  # ids per IN list: well under SQLite's and asyncpg's parameter limits


class Outcome(StrEnum):
    QUEUED = "queued"  # stored, and it created jobs
    IGNORED = "ignored"  # stored, nothing to do for it
    DUPLICATE = "duplicate"  # this delivery id was stored before: nothing new
    REPLAYED = "replayed"  # its body was stored before under another delivery id: not stored


@dataclass(frozen=True)
class NewDelivery:
    id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    jobs: tuple[NewJob, ...] = ()
    body_sha256: bytes | None = None  # of the signed body; None: not checked for a replay


@functools.cache
def _insert_deliveries(postgres: bool) -> Insert:
    # Built once: one statement shape for every batch size, so SQLAlchemy compiles it once too.
    dialect_insert = postgresql.insert if postgres else sqlite.insert
    # No conflict target: a row whose id or body hash is stored already is skipped.
    return dialect_insert(deliveries).on_conflict_do_nothing().returning(deliveries.c.id)


def store_deliveries(
    conn: Connection,
    batch: Sequence[NewDelivery],
    *,
    now: datetime,
    max_attempts: int,
    postgres: bool,
) -> list[Outcome]:
    """Insert new deliveries and their jobs; report each one's outcome, in order."""
    first_index: dict[str, int] = {}
    for i, d in enumerate(batch):
        first_index.setdefault(d.id, i)
    unique = [batch[i] for i in first_index.values()]
    rows = [
        {
            "id": d.id,
            "event": d.event,
            "action": d.action,
            "installation_id": d.installation_id,
            "repository": d.repository,
            "outcome": Outcome.QUEUED if d.jobs else Outcome.IGNORED,
            "received_at": now,
            "body_sha256": d.body_sha256,
        }
        for d in unique
    ]
    inserted = set(conn.execute(_insert_deliveries(postgres), rows).scalars())
    skipped = [d.id for d in unique if d.id not in inserted]
    # Rare (a redelivery, a replay): which skipped rows were skipped for their id.
    known = _ids_stored(conn, skipped) if skipped else set()
    insert_jobs(
        conn,
        [(d.id, job) for d in unique if d.id in inserted for job in d.jobs],
        now=now,
        max_attempts=max_attempts,
    )
    outcomes = []
    for i, d in enumerate(batch):
        if first_index[d.id] != i or d.id in known:
            outcomes.append(Outcome.DUPLICATE)
        elif d.id not in inserted:
            outcomes.append(Outcome.REPLAYED)
        else:
            outcomes.append(Outcome.QUEUED if d.jobs else Outcome.IGNORED)
    return outcomes


def _ids_stored(conn: Connection, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        found.update(
            conn.execute(select(deliveries.c.id).where(deliveries.c.id.in_(chunk))).scalars()
        )
    return found


_Pending = tuple[NewDelivery, "asyncio.Future[Outcome]"]


class DeliveryWriter:
    """One writer task per process; `submit` returns once the delivery is committed."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_attempts: int,
        clock: Clock = utcnow,
        max_batch: int = 256,
        on_jobs: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._max_attempts = max_attempts
        self._clock = clock
        self._max_batch = max_batch
        self._on_jobs = on_jobs
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="delivery-writer")

    async def stop(self) -> None:
        """Commit what is already submitted, then end the writer task."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task
        self._task = None

    async def submit(self, delivery: NewDelivery) -> Outcome:
        if self._task is None:
            raise StoreError("the delivery writer is not running")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((delivery, future))
        return await future

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            item = await self._queue.get()
            batch: list[_Pending] = []
            if item is None:
                stopping = True
            else:
                batch.append(item)
            while len(batch) < self._max_batch and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    stopping = True
                else:
                    batch.append(more)
            if batch:
                await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        deliveries = [d for d, _ in batch]
        now = self._clock()
        postgres = is_postgres(self._engine)

        def work(conn: Connection) -> list[Outcome]:
            return store_deliveries(
                conn, deliveries, now=now, max_attempts=self._max_attempts, postgres=postgres
            )

        try:
            outcomes = await run_transaction(self._engine, work)
        except Exception as exc:  # noqa: BLE001 - every waiter must hear about it
            log.error("could not store %d deliveries: %s", len(batch), type(exc).__name__)
            for _, future in batch:
                if not future.done():
                    future.set_exception(StoreError("the delivery could not be stored"))
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
        if self._on_jobs is not None:
            # One call per job queued: each may wake one idle worker slot.
            for (delivery, _), outcome in zip(batch, outcomes, strict=True):
                if outcome is Outcome.QUEUED:
                    for _job in delivery.jobs:
                        self._on_jobs()


# ----- what recovery and the operator read (`backend-review deliveries ...`) ------------------


async def stored_ids(engine: AsyncEngine, ids: Collection[str]) -> set[str]:
    """Which of these delivery ids (GitHub's guids) we have stored."""
    wanted = sorted(set(ids))
    found: set[str] = set()
    async with engine.connect() as conn:
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            rows = await conn.execute(select(deliveries.c.id).where(deliveries.c.id.in_(chunk)))
            found.update(rows.scalars())
    return found


@dataclass(frozen=True)
class StoredDelivery:
    id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    outcome: str
    received_at: datetime
    jobs: int  # job rows that name this delivery (replays included)


def _with_job_count() -> Select[Any]:
    count = (
        select(func.count())
        .where(jobs.c.delivery_id == deliveries.c.id)
        .correlate(deliveries)
        .scalar_subquery()
    )
    return select(deliveries, count.label("job_count"))


def _stored(row: Any) -> StoredDelivery:
    return StoredDelivery(
        id=row.id,
        event=row.event,
        action=row.action,
        installation_id=row.installation_id,
        repository=row.repository,
        outcome=row.outcome,
        received_at=row.received_at,
        jobs=int(row.job_count),
    )


async def list_deliveries(
    engine: AsyncEngine, *, limit: int = 50, event: str | None = None
) -> list[StoredDelivery]:
    """The most recently received first."""
    stmt = _with_job_count().order_by(deliveries.c.received_at.desc(), deliveries.c.id).limit(limit)
    if event is not None:
        stmt = stmt.where(deliveries.c.event == event)
    async with engine.connect() as conn:
        return [_stored(row) for row in await conn.execute(stmt)]


async def get_delivery(engine: AsyncEngine, delivery_id: str) -> StoredDelivery | None:
    async with engine.connect() as conn:
        row = (await conn.execute(_with_job_count().where(deliveries.c.id == delivery_id))).first()
    return None if row is None else _stored(row)


async def replay_delivery(
    engine: AsyncEngine, delivery_id: str, *, now: datetime, max_attempts: int
) -> list[int] | None:
    """Queue again the jobs this delivery created, from their stored payloads; the new jobs'
    ids (empty: it created none), or None when the delivery is not stored.

    The webhook body itself is not stored, only the jobs made from it, and those are what a
    replay needs. Asking GitHub to redeliver would not do: the guid is stored, so the
    redelivery is a duplicate and creates nothing. A delivery replayed before names its
    replays' jobs too; each distinct job is queued once. Review jobs coalesce as at intake.
    """
    stmt = (
        select(jobs.c.kind, jobs.c.payload, jobs.c.coalesce_key)
        .where(jobs.c.delivery_id == delivery_id)
        .order_by(jobs.c.id)
    )
    exists = select(deliveries.c.id).where(deliveries.c.id == delivery_id)

    def work(conn: Connection) -> list[int] | None:
        if conn.execute(exists).first() is None:
            return None
        distinct = dict.fromkeys(tuple(row) for row in conn.execute(stmt))
        new = [
            (delivery_id, NewJob(kind, json.loads(payload), coalesce_key=key))
            for kind, payload, key in distinct
        ]
        before = conn.execute(select(func.max(jobs.c.id))).scalar() or 0
        insert_jobs(conn, new, now=now, max_attempts=max_attempts)
        created = select(jobs.c.id).where(jobs.c.delivery_id == delivery_id, jobs.c.id > before)
        return list(conn.execute(created.order_by(jobs.c.id)).scalars())

    return await run_transaction(engine, work)
