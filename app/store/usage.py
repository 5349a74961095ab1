"""LLM token usage, one row per review: recorded after each review, summed for the daily cap.

A review that was kept from calling the model (over budget, model unavailable) is recorded too,
with its outcome and whatever tokens it spent, so the table tells why a review had no LLM part.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import Connection, Insert, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.db import run_transaction
from app.store.tables import UtcDateTime, llm_usage

_TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


@dataclass(frozen=True, slots=True)
class UsageRecord:
    installation_id: int | None  # None for the CLI
    repository: str | None  # owner/name
    number: int | None
    head_sha: str | None
    job_id: int | None
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    outcome: str
    at: datetime  # timezone-aware

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("UsageRecord.at must be timezone-aware")
        for name in ("calls", *_TOKEN_FIELDS):
            if getattr(self, name) < 0:
                raise ValueError(f"UsageRecord.{name} must not be negative")

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
        )


_INSERT: Insert = insert(llm_usage).returning(llm_usage.c.id)

_TOTAL = (
    llm_usage.c.input_tokens
    + llm_usage.c.output_tokens
    + llm_usage.c.cache_read_tokens
    + llm_usage.c.cache_write_tokens
)
# Rows of the CLI (no installation) never match: `installation_id = :p` is never true for NULL.
_USED_SINCE = select(func.coalesce(func.sum(_TOTAL), 0)).where(
    llm_usage.c.installation_id == bindparam("p_installation"),
    llm_usage.c.created_at >= bindparam("p_since", type_=UtcDateTime()),
)


async def record_usage(engine: AsyncEngine, record: UsageRecord) -> int:
    """Store one review's usage; returns the new row's id."""
    row = {
        "installation_id": record.installation_id,
        "repository": record.repository,
        "number": record.number,
        "head_sha": record.head_sha,
        "job_id": record.job_id,
        "model": record.model,
        "calls": record.calls,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cache_read_tokens": record.cache_read_tokens,
        "cache_write_tokens": record.cache_write_tokens,
        "outcome": record.outcome,
        "created_at": record.at,
    }

    def work(conn: Connection) -> int:
        return int(conn.execute(_INSERT, row).scalar_one())

    return await run_transaction(engine, work)


async def tokens_used_since(engine: AsyncEngine, installation_id: int, since: datetime) -> int:
    """Tokens of all four kinds recorded for the installation at or after `since`."""
    if since.tzinfo is None or since.utcoffset() is None:
        raise ValueError("tokens_used_since needs a timezone-aware `since`")
    params = {"p_installation": installation_id, "p_since": since}

    def work(conn: Connection) -> int:
        # PostgreSQL sums bigints into a numeric (a Decimal here).
        return int(conn.execute(_USED_SINCE, params).scalar_one())

    return await run_transaction(engine, work)


def start_of_utc_day(now: datetime) -> datetime:
    """Midnight UTC of the UTC day `now` falls on: where the daily cap starts counting."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("start_of_utc_day needs a timezone-aware datetime")
    return datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
