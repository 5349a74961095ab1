"""The database as the rest of the service sees it: one `Store` per process.

Everything outside `app/store` goes through this object; the SQLAlchemy engine (and the choice
between SQLite and PostgreSQL) stays behind it. The queue and the delivery writer are made
here too, on the same engine. Each method is one of the store modules' functions; their
docstrings say what it does and in what transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from app.review.dismissal import DismissalRecord
from app.store import migrate
from app.store.db import make_engine, reach
from app.store.deliveries import (
    DeliveryWriter,
    StoredDelivery,
    get_delivery,
    list_deliveries,
    replay_delivery,
    stored_ids,
)
from app.store.job_admin import Change, JobRow, cancel_jobs, list_jobs, retry_jobs
from app.store.jobs import Clock, JobQueue, newer_review_queued, utcnow
from app.store.replies import may_reply
from app.store.reviews import (
    Dismissal,
    StoredReview,
    add_dismissal,
    dismissal_records,
    dismissals,
    last_review,
    save_review,
)
from app.store.usage import UsageRecord, record_usage, tokens_used_since


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> Store:
        """A store on the database at `url` (nothing is connected before the first use).

        `create=False` (every command but `serve`, `worker` and `db upgrade`): a SQLite file
        that is not there is `NoDatabase`, and none is created (app.store.opening)."""
        return cls(make_engine(url, create=create))

    @property
    def engine(self) -> AsyncEngine:
        """For `app/store` and its tests; code elsewhere uses the methods."""
        return self._engine

    async def close(self) -> None:
        await self._engine.dispose()

    # ----- schema -----

    # Each connects first: a database that cannot be opened or reached is a StoreError saying
    # where and what to do (app.store.opening), not the driver's exception.

    async def upgrade(self, revision: str = "head") -> None:
        await reach(self._engine)
        await migrate.upgrade(self._engine, revision)

    async def downgrade(self, revision: str) -> None:
        await reach(self._engine)
        await migrate.downgrade(self._engine, revision)

    async def revision(self) -> str | None:
        await reach(self._engine)
        return await migrate.current_revision(self._engine)

    # ----- jobs and deliveries -----

    def queue(
        self, *, worker_id: str, lease_seconds: float, max_attempts: int, clock: Clock = utcnow
    ) -> JobQueue:
        return JobQueue(
            self._engine,
            worker_id=worker_id,
            lease_seconds=lease_seconds,
            max_attempts=max_attempts,
            clock=clock,
        )

    def delivery_writer(
        self, *, max_attempts: int, clock: Clock = utcnow, on_jobs: Callable[[], None] | None = None
    ) -> DeliveryWriter:
        return DeliveryWriter(self._engine, max_attempts=max_attempts, clock=clock, on_jobs=on_jobs)

    async def newer_review_queued(self, coalesce_key: str, *, than_job_id: int) -> bool:
        return await newer_review_queued(self._engine, coalesce_key, than_job_id=than_job_id)

    async def stored_delivery_ids(self, ids: Collection[str]) -> set[str]:
        return await stored_ids(self._engine, ids)

    # ----- reviews and dismissals -----

    async def last_review(self, repository_id: int, number: int) -> StoredReview | None:
        return await last_review(self._engine, repository_id, number)

    async def save_review(self, review: StoredReview) -> None:
        await save_review(self._engine, review)

    async def dismissals(self, repository_id: int, number: int) -> dict[str, str]:
        return await dismissals(self._engine, repository_id, number)

    async def add_dismissal(self, dismissal: Dismissal) -> bool:
        return await add_dismissal(self._engine, dismissal)

    async def dismissal_records(self, repository_id: int, number: int) -> list[DismissalRecord]:
        return await dismissal_records(self._engine, repository_id, number)

    # ----- replies -----

    async def may_reply(
        self, repository_id: int, number: int, login: str, *, now: datetime
    ) -> bool:
        return await may_reply(self._engine, repository_id, number, login, now=now)

    # ----- model usage -----

    async def record_usage(self, record: UsageRecord) -> int:
        return await record_usage(self._engine, record)

    async def tokens_used_since(self, installation_id: int, since: datetime) -> int:
        return await tokens_used_since(self._engine, installation_id, since)

    # ----- the operator's commands (backend-review jobs / deliveries) -----

    async def list_jobs(
        self, *, status: str | None = None, kind: str | None = None, limit: int = 50
    ) -> list[JobRow]:
        return await list_jobs(self._engine, status=status, kind=kind, limit=limit)

    async def retry_jobs(self, ids: Sequence[int], *, now: datetime) -> list[Change]:
        return await retry_jobs(self._engine, ids, now=now)

    async def cancel_jobs(self, ids: Sequence[int], *, now: datetime) -> list[Change]:
        return await cancel_jobs(self._engine, ids, now=now)

    async def list_deliveries(
        self, *, limit: int = 50, event: str | None = None
    ) -> list[StoredDelivery]:
        return await list_deliveries(self._engine, limit=limit, event=event)

    async def get_delivery(self, delivery_id: str) -> StoredDelivery | None:
        return await get_delivery(self._engine, delivery_id)

    async def replay_delivery(
        self, delivery_id: str, *, now: datetime, max_attempts: int
    ) -> list[int] | None:
        return await replay_delivery(self._engine, delivery_id, now=now, max_attempts=max_attempts)
