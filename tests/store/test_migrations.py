"""Alembic: upgrade → downgrade → upgrade on both dialects, and the result matches tables.py."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
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
