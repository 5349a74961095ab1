"""What the admin commands share: one-line errors, opening the database, argument types, tables."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

from app.errors import StoreError
from app.logs import Redactor
from app.settings import Settings
from app.store import migrate
from app.store.facade import Store
from app.store.opening import NoDatabase, sqlite_file

T = TypeVar("T")
Command = Callable[[argparse.Namespace], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

DB_TIMEOUT_SECONDS = 10.0
_REDACT = Redactor()
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class AdminError(Exception):
    """Stops a command: `message` on one line of stderr, exit `code` (2: it could not run)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def command(func: Callable[[argparse.Namespace], int]) -> Command:
    @wraps(func)
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except AdminError as exc:
            print(f"backend-review: error: {one_line(exc.message, 300)}", file=sys.stderr)
            return exc.code

    return run


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def one_line(text: str | None, width: int) -> str:
    """The first line, shortened to `width`, with anything shaped like a secret removed."""
    first = (str(text or "").strip().splitlines() or [""])[0]
    if len(first) > width:
        first = first[: width - 1] + "…"
    return _REDACT.redact(first)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    return sqlite_file(url)


def no_database(path: Path) -> AdminError:
    return AdminError(no_database_message(path))


def no_database_message(path: Path) -> str:
    """Run from another folder, a command finds no database because ./data is looked for under
    the working directory; `db upgrade` there would make a second, empty one."""
    return (
        f"no database at {path}: the default data directory, ./data, is relative to the "
        "working directory, so run this where `serve` runs or set BACKEND_REVIEW_DATA_DIR to "
        "serve's (`db upgrade` would create a new, empty one)"
    )


async def reachable_revision(store: Store) -> str | None:
    """The database's migration revision, or AdminError naming why it cannot be read (never
    the URL: it may hold a password)."""
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS):
            return await store.revision()
    except TimeoutError:
        raise AdminError(
            f"the database did not answer within {DB_TIMEOUT_SECONDS:.0f} s: check DATABASE_URL"
        ) from None
    except StoreError as exc:  # says what could not be opened or reached, and where
        raise AdminError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any failure to connect is reported the same way
        raise AdminError(
            f"cannot reach the database ({type(exc).__name__}): check DATABASE_URL and that "
            "the server is up"
        ) from None


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[Store]:
    """The app's database, reachable and at the newest migration, or AdminError."""
    try:
        # Never created here: only `db upgrade`, `serve` and `worker` make a database.
        store = Store.open(settings.resolved_database_url, create=False)
    except NoDatabase as exc:
        raise no_database(exc.path) from None
    try:
        revision = await reachable_revision(store)
        head = migrate.head_revision()
        if revision != head:
            raise AdminError(
                f"the database is at revision {revision or 'none (empty)'}, not {head}: "
                "run `backend-review db upgrade`"
            )
        yield store
    finally:
        await store.close()


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def duration(text: str) -> timedelta:
    """`30m`, `24h`, `3d`."""
    number, unit = text[:-1], text[-1:]
    if unit not in _UNITS or not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(f"expected a duration like 30m, 24h or 3d, got {text!r}")
    return timedelta(**{_UNITS[unit]: int(number)})


def show_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last column is left ragged."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = []
    for cells in (headers, *rows):
        padded = [c.ljust(w) for c, w in zip(cells[:-1], widths[:-1], strict=True)]
        lines.append("  ".join([*padded, cells[-1]]).rstrip())
    return "\n".join(lines)
