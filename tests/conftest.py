"""Shared fixtures: real SQLite files, a real PostgreSQL where one answers, the app in-process."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from app.store import migrate
from app.store.db import make_engine
from app.store.facade import Store
from app.web.app import create_app

WEBHOOK_SECRET = "It's a Secret to Everybody"
POSTGRES_URL = os.environ.get(
    "BACKEND_REVIEW_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("BACKEND_REVIEW_REQUIRE_POSTGRES") == "1"


class FakeClock:
    """A clock the test moves by hand: leases expire when the test says so."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# The settings a developer's shell may carry, which a test of the command line must not see.
SETTINGS_PREFIXES = ("ANTHROPIC_", "AWS_", "BACKEND_REVIEW_", "CLOUD_ML_", "GITHUB_", "LINEAR_")


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting of this machine's, no `.env` of the developer's (the working directory is
    `tmp_path`), and the data directory under `tmp_path`."""
    for name in list(os.environ):
        if name.startswith(SETTINGS_PREFIXES) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BACKEND_REVIEW_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        github_webhook_secret=WEBHOOK_SECRET,
        data_dir=tmp_path / "data",
        worker_concurrency=0,
        job_poll_seconds=0.05,
        drain_seconds=2,
        _env_file=None,  # type: ignore[call-arg]
    )


async def _postgres_available() -> str | None:
    engine = make_engine(POSTGRES_URL)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"no PostgreSQL at {POSTGRES_URL} ({type(exc).__name__})"
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh schema of the test PostgreSQL, dropped afterwards."""
    problem = await _postgres_available()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(f"BACKEND_REVIEW_REQUIRE_POSTGRES=1 but {problem}")
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(
        POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}}, pool_size=10
    )
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@asynccontextmanager
async def sqlite_file(path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def postgres_engine() -> AsyncIterator[AsyncEngine]:
    async with postgres_schema() as engine:
        yield engine


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with sqlite_file(tmp_path / "test.db") as engine:
        yield engine


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database: each test runs once on SQLite and once on PostgreSQL."""
    opener = sqlite_file(tmp_path / "test.db") if request.param == "sqlite" else postgres_schema()
    async with opener as db:
        await migrate.upgrade(db)
        yield db


AppFactory = Callable[..., FastAPI]


@pytest.fixture
async def app_client(
    settings: Settings, sqlite_engine: AsyncEngine
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """The real app with its lifespan running, on a real SQLite file, over ASGI."""
    app = create_app(settings, store=Store(sqlite_engine))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, app


async def wait_for(predicate: Callable[[], object], within: float = 5.0) -> None:
    """Poll an async or sync predicate until it is truthy (for work done by background tasks)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
