"""LLM usage rows and the daily-cap sum on real SQLite and PostgreSQL; the LLM metrics."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Connection, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.metrics import Metrics
from app.store import migrate
from app.store.tables import llm_usage
from app.store.usage import UsageRecord, record_usage, start_of_utc_day, tokens_used_since

NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def usage(**changes: object) -> UsageRecord:
    base = UsageRecord(
        installation_id=42,
        repository="octo/api",
        number=7,
        head_sha="a" * 40,
        job_id=3,
        model="claude-sonnet-4-5",
        calls=2,
        input_tokens=1_000,
        output_tokens=200,
        cache_read_tokens=30,
        cache_write_tokens=4,
        outcome="complete",
        at=NOON,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def row_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(llm_usage))).scalar_one())


async def test_records_every_field_and_ids_increase(engine: AsyncEngine) -> None:
    big = 5_000_000_000  # past 32 bits: the token columns are bigints
    first = usage(installation_id=big, input_tokens=big)
    second = usage(
        installation_id=None,
        repository=None,
        number=None,
        head_sha=None,
        job_id=None,
        model="claude-haiku-4-5",
        calls=0,
        input_tokens=0,
        output_tokens=0,
        cache_read_tokens=0,
        cache_write_tokens=0,
        outcome="over-budget",
        at=NOON.astimezone(timezone(timedelta(hours=-5))),
    )
    first_id = await record_usage(engine, first)
    second_id = await record_usage(engine, second)
    assert second_id > first_id

    async with engine.connect() as conn:
        rows = (await conn.execute(select(llm_usage).order_by(llm_usage.c.id))).mappings().all()
    assert [dict(r) for r in rows] == [
        {
            "id": first_id,
            "installation_id": big,
            "repository": "octo/api",
            "number": 7,
            "head_sha": "a" * 40,
            "job_id": 3,
            "model": "claude-sonnet-4-5",
            "calls": 2,
            "input_tokens": big,
            "output_tokens": 200,
            "cache_read_tokens": 30,
            "cache_write_tokens": 4,
            "outcome": "complete",
            "created_at": NOON,
        },
        {
            "id": second_id,
            "installation_id": None,
            "repository": None,
            "number": None,
            "head_sha": None,
            "job_id": None,
            "model": "claude-haiku-4-5",
            "calls": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "outcome": "over-budget",
            "created_at": NOON,  # stored as UTC whatever zone it came in
        },
    ]
    assert rows[1]["created_at"].tzinfo is not None


async def test_tokens_used_since_sums_one_installation_from_since_on(engine: AsyncEngine) -> None:
    since = datetime(2026, 11, 22, tzinfo=UTC)
    await record_usage(engine, usage(at=since - timedelta(microseconds=1)))  # yesterday
    at_boundary = usage(at=since, input_tokens=10, output_tokens=1, cache_read_tokens=0)
    later = usage(at=NOON, input_tokens=500, cache_read_tokens=7, cache_write_tokens=3)
    await record_usage(engine, at_boundary)
    await record_usage(engine, later)
    await record_usage(engine, usage(installation_id=43, at=NOON))  # another installation
    await record_usage(engine, usage(installation_id=None, at=NOON))  # the CLI

    used = await tokens_used_since(engine, 42, since)
    assert used == at_boundary.total_tokens + later.total_tokens
    assert used == (10 + 1 + 0 + 4) + (500 + 200 + 7 + 3)
    assert await tokens_used_since(engine, 43, since) == usage().total_tokens
    assert await tokens_used_since(engine, 42, NOON + timedelta(seconds=1)) == 0
    assert await tokens_used_since(engine, 99, since) == 0
    # The same instant given in another zone selects the same rows.
    est = since.astimezone(timezone(timedelta(hours=-5)))
    assert await tokens_used_since(engine, 42, est) == used


async def test_naive_times_and_negative_counts_are_rejected(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        usage(at=datetime(2026, 11, 22, 12, 0))
    fields = ("calls", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    for field in fields:
        with pytest.raises(ValueError, match=f"{field} must not be negative"):
            await record_usage(engine, usage(**{field: -1}))
    assert await row_count(engine) == 0
    with pytest.raises(ValueError, match="timezone-aware"):
        await tokens_used_since(engine, 42, datetime(2026, 11, 22))


def test_start_of_utc_day() -> None:
    # 01:30 on the 23rd in UTC+3 is 22:30 on the 22nd in UTC.
    plus_three = datetime(2026, 11, 23, 1, 30, tzinfo=timezone(timedelta(hours=3)))
    start = start_of_utc_day(plus_three)
    assert start == datetime(2026, 11, 22, tzinfo=UTC)
    assert start.tzinfo is UTC
    assert start_of_utc_day(datetime(2026, 11, 22, tzinfo=UTC)) == start
    with pytest.raises(ValueError, match="timezone-aware"):
        start_of_utc_day(datetime(2026, 11, 22, 12, 0))


def _schema(sync: Connection) -> tuple[bool, list[tuple[str, list[str | None]]]]:
    inspector = inspect(sync)
    if not inspector.has_table("llm_usage"):
        return False, []
    indexes = inspector.get_indexes("llm_usage")
    return True, [(str(ix["name"]), list(ix["column_names"])) for ix in indexes]


async def test_migration_0002_up_down_up(engine: AsyncEngine) -> None:
    index = ("ix_llm_usage_installation_id_created_at", ["installation_id", "created_at"])
    async with engine.connect() as conn:
        assert await conn.run_sync(_schema) == (True, [index])
    await migrate.downgrade(engine, "0001")
    assert await migrate.current_revision(engine) == "0001"
    async with engine.connect() as conn:
        assert await conn.run_sync(_schema) == (False, [])
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    async with engine.connect() as conn:
        assert await conn.run_sync(_schema) == (True, [index])
    assert await record_usage(engine, usage()) > 0
    assert await tokens_used_since(engine, 42, NOON) == usage().total_tokens


def sample(text: str, name: str, label: str, value: str) -> float:
    line = f'{name}{{{label}="{value}"}} '
    found = [row for row in text.splitlines() if row.startswith(line)]
    assert len(found) == 1, f"no single sample {line!r}"
    return float(found[0].removeprefix(line))


def test_llm_metrics_count_tokens_calls_and_reviews() -> None:
    metrics = Metrics()
    metrics.count_llm_tokens(
        input_tokens=1_000, output_tokens=200, cache_read_tokens=30, cache_write_tokens=4
    )
    metrics.count_llm_tokens(
        input_tokens=5, output_tokens=0, cache_read_tokens=0, cache_write_tokens=6
    )
    for outcome in ("ok", "ok", "retried", "unavailable", "rejected", "unusable", "exploded"):
        metrics.count_llm_call(outcome)
    for outcome in ("complete", "partial", "over-budget", "rules-only", "complete", "weird"):
        metrics.count_llm_review(outcome)
    text = metrics.render().decode()

    tokens = {
        kind: sample(text, "backend_review_llm_tokens_total", "kind", kind)
        for kind in ("input", "output", "cache_read", "cache_write")
    }
    assert tokens == {"input": 1_005, "output": 200, "cache_read": 30, "cache_write": 10}
    calls = {
        outcome: sample(text, "backend_review_llm_calls_total", "outcome", outcome)
        for outcome in ("ok", "retried", "unavailable", "rejected", "unusable", "other")
    }
    assert calls == {
        "ok": 2,
        "retried": 1,
        "unavailable": 1,
        "rejected": 1,
        "unusable": 1,
        "other": 1,
    }
    assert 'outcome="exploded"' not in text
    reviews = {
        outcome: sample(text, "backend_review_llm_reviews_total", "outcome", outcome)
        for outcome in (
            "complete",
            "partial",
            "unusable",
            "unavailable",
            "over-budget",
            "rules-only",
            "other",
        )
    }
    assert reviews == {
        "complete": 2,
        "partial": 1,
        "unusable": 0,
        "unavailable": 0,
        "over-budget": 1,
        "rules-only": 1,
        "other": 1,
    }
    assert 'outcome="weird"' not in text


def test_llm_metrics_refuse_negative_tokens() -> None:
    metrics = Metrics()
    with pytest.raises(ValueError, match="must not be negative"):
        metrics.count_llm_tokens(
            input_tokens=10, output_tokens=-1, cache_read_tokens=0, cache_write_tokens=0
        )
    text = metrics.render().decode()
    assert sample(text, "backend_review_llm_tokens_total", "kind", "input") == 0
