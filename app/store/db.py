"""Engine creation and transactions: the same SQLAlchemy Core code for SQLite and PostgreSQL.

Hot store operations (storing deliveries, claiming and finishing jobs) are plain synchronous
functions of a SQLAlchemy `Connection`; `run_transaction` runs one of them in one transaction:

- PostgreSQL (asyncpg): `AsyncConnection.run_sync` on the async engine's pool.
- SQLite file: on one dedicated thread with its own (synchronous, pysqlite) connection to the
  same file, with the same pragmas. A transaction then costs the event loop one thread hop,
  where through aiosqlite each cursor, execute, fetch, close, commit and reset is a hop of its
  own (about a dozen per transaction). The statements are the same on both paths.

All of this process's writes to a SQLite file go through that thread, one transaction at a time
in submission order; the async engine's own pooled connection serves reads, migrations and
probes.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from app.store.opening import located, sqlite_file, unreachable

SQLITE_BUSY_TIMEOUT_MS = 10_000

T = TypeVar("T")
Work = Callable[[Connection], T]


def make_engine(url: str, *, create: bool = True, **kwargs: Any) -> AsyncEngine:
    """An engine for `url`; on SQLite, WAL with full fsync on commit and a busy timeout.

    `create`: a SQLite file (and its folder) may be created; without it, the file must exist
    (app.store.opening: NoDatabase, or StoreError for a folder that cannot be made)."""
    # Bound values (comment text, payload fields) never belong in an error message or log.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        # One connection per process: SQLite has one writer anyway, and queueing for the pool
        # is fair and cheap, where SQLite's own busy handler sleeps in steps of up to 100 ms.
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
    engine = create_async_engine(located(url, create=create), **kwargs)
    if engine.dialect.name == "sqlite":
        _prepare_sqlite(engine.sync_engine)
    return engine


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a delivery we answered 202 for survives a power cut, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


async def run_transaction(engine: AsyncEngine, work: Work[T]) -> T:
    """`work(conn)` in one transaction: committed if it returns, rolled back if it raises."""
    store = _sqlite_store(engine)
    if store is not None:
        return await store.run(work)
    async with engine.begin() as conn:
        return await conn.run_sync(work)


async def reach(engine: AsyncEngine) -> None:
    """Connect once (SQLite: open the file), or StoreError saying what, where and what to do."""
    try:
        if sqlite_file(engine.url) is not None:
            # Through the store's own thread: aiosqlite's thread, after a failed open, reports
            # to the event loop later, and prints a traceback if the loop has closed by then.
            await run_transaction(engine, lambda _conn: None)
        else:
            async with engine.connect():
                pass
    except Exception as exc:  # noqa: BLE001 - whatever stops the connection, said the same way
        raise unreachable(engine.url, exc) from None


class _SqliteStore:
    """One thread and one synchronous connection that run a SQLite file's transactions, in
    submission order."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = create_engine(
            engine.url.set(drivername="sqlite"),
            hide_parameters=True,
            pool_size=1,
            max_overflow=0,
            # Only the store's thread uses the connection; `close` may come from elsewhere.
            connect_args={"check_same_thread": False},
        )
        _prepare_sqlite(self.engine)
        # Kept open between transactions: a pool checkout, reset and return per transaction
        # cost about a third of a small one.
        self._conn: Connection | None = None
        self._calls: SimpleQueue[Callable[[], None] | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="sqlite-store", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            call()
        if self._conn is not None:
            self._conn.close()
        self.engine.dispose()

    def _transaction(self, work: Work[T]) -> T:
        conn = self._conn
        if conn is None or conn.closed or conn.invalidated:
            conn = self._conn = self.engine.connect()
        try:
            with conn.begin():
                return work(conn)
        finally:
            if conn.closed or conn.invalidated:
                self._conn = None

    async def run(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def call() -> None:
            try:
                result = self._transaction(work)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)

        self._calls.put(call)
        return await future

    def close(self) -> None:
        """Finish what was submitted, then close the connection and end the thread."""
        self._calls.put(None)


def _settle(future: asyncio.Future[T], result: T | None, exc: BaseException | None) -> None:
    if future.done():  # the waiter was cancelled; the transaction ran to its end anyway
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)  # type: ignore[arg-type]


_stores: weakref.WeakKeyDictionary[Engine, _SqliteStore] = weakref.WeakKeyDictionary()


def _sqlite_store(engine: AsyncEngine) -> _SqliteStore | None:
    sync_engine = engine.sync_engine
    store = _stores.get(sync_engine)
    if store is not None:
        return store
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if not event.contains(sync_engine, "engine_disposed", _on_disposed):
        event.listen(sync_engine, "engine_disposed", _on_disposed)
    store = _stores[sync_engine] = _SqliteStore(engine)
    return store


def _on_disposed(sync_engine: Engine) -> None:
    # The async engine let go of its connections: so does its store (a new one starts on use).
    store = _stores.pop(sync_engine, None)
    if store is not None:
        store.close()
