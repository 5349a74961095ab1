"""Alembic: upgrade → downgrade → upgrade on both dialects, and the result matches tables.py."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store import migrate
from app.store.tables import metadata
from tests.conftest import postgres_schema, sqlite_file


def _tables(sync: Connection) -> set[str]:
    return set(inspect(sync).get_table_names())


def _drift(sync: Connection) -> list[object]:
    context = MigrationContext.configure(sync, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _round_trip(engine: AsyncEngine) -> None:
    assert await migrate.current_revision(engine) is None
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    async with engine.connect() as conn:
        assert {"deliveries", "jobs"} <= await conn.run_sync(_tables)
        assert await conn.run_sync(_drift) == []
    await migrate.downgrade(engine, "base")
    assert await migrate.current_revision(engine) is None
    async with engine.connect() as conn:
        assert not {"deliveries", "jobs"} & await conn.run_sync(_tables)
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    await migrate.upgrade(engine)  # a second upgrade at head is a no-op


async def test_sqlite_round_trip(tmp_path: object) -> None:
    async with sqlite_file(tmp_path / "m.db") as engine:  # type: ignore[operator]
        await _round_trip(engine)


async def test_postgres_round_trip() -> None:
    async with postgres_schema() as engine:
        await _round_trip(engine)


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
async def test_replicas_migrating_at_once_do_not_collide(dialect: str, tmp_path: object) -> None:
    import asyncio

    opener = sqlite_file(tmp_path / "m.db") if dialect == "sqlite" else postgres_schema()  # type: ignore[operator]
    async with opener as engine:
        await asyncio.gather(*(migrate.upgrade(engine) for _ in range(4)))
        assert await migrate.current_revision(engine) == migrate.head_revision()


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
async def test_undoing_0007_keeps_the_jobs_delivery_ids(dialect: str, tmp_path: object) -> None:
    """Copying `deliveries` (SQLite's batch mode) would drop the old table, and with foreign
    keys on that sets every job's delivery_id to NULL."""
    opener = sqlite_file(tmp_path / "m.db") if dialect == "sqlite" else postgres_schema()  # type: ignore[operator]
    async with opener as engine:
        await migrate.upgrade(engine, "0007")
        now = datetime(2026, 12, 6)  # naive UTC, as both dialects take it in raw SQL
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO deliveries (id, event, outcome, received_at, body_sha256) "
                    "VALUES ('d-1', 'ping', 'queued', :now, :hash)"
                ),
                {"now": now, "hash": b"\x01" * 32},
            )
            await conn.execute(
                text(
                    "INSERT INTO jobs (delivery_id, kind, status, payload, attempts, "
                    "max_attempts, run_after, created_at, updated_at) "
                    "VALUES ('d-1', 'review', 'queued', '{}', 0, 3, :now, :now, :now)"
                ),
                {"now": now},
            )
        await migrate.downgrade(engine, "0006")
        async with engine.connect() as conn:
            kept = (await conn.execute(text("SELECT delivery_id FROM jobs"))).scalars().all()
            columns = {
                c["name"]
                for c in await conn.run_sync(lambda s: inspect(s).get_columns("deliveries"))
            }
        assert kept == ["d-1"]
        assert "body_sha256" not in columns
