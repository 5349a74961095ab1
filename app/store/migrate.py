"""Apply and inspect Alembic migrations programmatically, inside a running event loop."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)
_SCRIPTS = Path(__file__).parent / "migrations"
# Any constant works; replicas starting together take this lock so one migrates at a time.
_PG_MIGRATION_LOCK = 0x6272_7276


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations folder has no revisions"
    return head


@functools.cache  # the scripts ship with the code: they cannot change while it runs
def known_revisions() -> frozenset[str]:
    """Every revision this code ships (a database at another one was migrated by newer code)."""
    scripts = ScriptDirectory.from_config(_config())
    return frozenset(script.revision for script in scripts.walk_revisions())


async def _lock(conn: AsyncConnection) -> None:
    """Serialise migrations across processes and make them one transaction on both dialects."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
    else:
        # pysqlite would otherwise run each DDL statement on its own; IMMEDIATE takes the write
        # lock up front, so a second process waits (busy_timeout) instead of racing.
        await conn.exec_driver_sql("BEGIN IMMEDIATE")


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await _lock(conn)
        before = await conn.run_sync(_current)
        await conn.run_sync(lambda sync: command.upgrade(_config(sync), revision))
        after = await conn.run_sync(_current)
    if before != after:
        log.info("database migrated from %s to %s", before or "empty", after)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await _lock(conn)
        await conn.run_sync(lambda sync: command.downgrade(_config(sync), revision))


def _current(sync: Connection) -> str | None:
    return MigrationContext.configure(sync).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)
