"""The database as the rest of the service sees it: one `Store` per process.

Everything outside `app/store` goes through this object; the SQLAlchemy engine (and the choice
between SQLite and PostgreSQL) stays behind it. The queue and the delivery writer are made
here too, on the same engine. Each method is one of the store modules' functions; their
docstrings say what it does and in what transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from app.store import migrate
from app.store.db import make_engine
from app.store.deliveries import DeliveryWriter, stored_ids
from app.store.jobs import Clock, JobQueue, newer_review_queued, utcnow
from app.store.reviews import (
    Dismissal,
    StoredReview,
    add_dismissal,
    dismissals,
    last_review,
    save_review,
)
from app.store.usage import UsageRecord, record_usage, tokens_used_since


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        """A store on the database at `url` (nothing is connected before the first use)."""
        return cls(make_engine(url))

    @property
    def engine(self) -> AsyncEngine:
        """For `app/store` and its tests; code elsewhere uses the methods."""
        return self._engine

    async def close(self) -> None:
        await self._engine.dispose()

    # ----- schema -----

    async def upgrade(self, revision: str = "head") -> None:
        await migrate.upgrade(self._engine, revision)

    async def downgrade(self, revision: str) -> None:
        await migrate.downgrade(self._engine, revision)

    async def revision(self) -> str | None:
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

    # ----- model usage -----

    async def record_usage(self, record: UsageRecord) -> int:
        return await record_usage(self._engine, record)

    async def tokens_used_since(self, installation_id: int, since: datetime) -> int:
        return await tokens_used_since(self._engine, installation_id, since)
