"""Where a database is, and opening it without surprises.

- Only the commands that set a database up (`serve`, `worker`, `db upgrade`) create a SQLite
  file and its folder (`create=True`). Every other reader opens an existing file read-write
  (SQLite's `mode=rw`): a file that is not there is `NoDatabase`, never a new empty one.
- A failure to create the folder, open the file or reach the server is a `StoreError` whose
  message says what failed, where, and what to do, on one line. It never holds the URL: a
  PostgreSQL URL may carry a password, so the server is named by host, port and database.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from app.errors import StoreError

_WHERE_TO_SET = "BACKEND_REVIEW_DATA_DIR (or DATABASE_URL)"


class NoDatabase(StoreError):
    """A reader asked for a SQLite file that is not there (nothing was created)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no database at {path}")
        self.path = path


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    database = str(parsed.database)
    if parsed.query.get("uri") == "true" and database.startswith("file:"):
        return Path(unquote(database.removeprefix("file:").split("?", 1)[0]))
    return Path(database)


def located(url: str, *, create: bool) -> URL:
    """The URL to connect to. SQLite: with `create`, its folder made (or StoreError); without,
    the existing file only (NoDatabase if absent), opened so that SQLite cannot create it."""
    parsed = make_url(url)
    path = sqlite_file(parsed)
    if path is None:
        return parsed
    if create:
        make_folder(path.parent)
        return parsed
    if not path.is_file():
        raise NoDatabase(path.absolute())
    # Built as a URL object, not a string: SQLAlchemy would decode the quoting SQLite needs.
    return parsed.set(
        database=f"file:{quote(str(path.absolute()))}",
        query={**parsed.query, "mode": "rw", "uri": "true"},
    )


def make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            reason = f"{blocker} is a file"
        else:
            reason = exc.strerror or type(exc).__name__
        raise StoreError(
            f"cannot create the database's folder {folder} ({reason}): set {_WHERE_TO_SET} "
            "to a folder this user can write"
        ) from None


def place(url: URL) -> str:
    """The database in words, without user or password."""
    path = sqlite_file(url)
    if path is not None:
        return f"the SQLite file {path}"
    if url.get_backend_name() == "sqlite":
        return "the in-memory SQLite database"
    port = f":{url.port}" if url.port else ""
    name = url.database or "(default)"
    return f"the PostgreSQL database {name} at {url.host or 'localhost'}{port}"


def unreachable(url: URL, exc: BaseException) -> StoreError:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    detail = _first_line(cause)
    if url.password:
        detail = detail.replace(str(url.password), "***")
    reason = type(cause).__name__ + (f": {detail}" if detail else "")
    if sqlite_file(url) is not None:
        return StoreError(
            f"cannot open {place(url)} ({reason}): the file and its folder must be writable "
            f"by this user; check {_WHERE_TO_SET}"
        )
    return StoreError(
        f"cannot reach {place(url)} ({reason}): check DATABASE_URL and that the server is up"
    )


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    lines = str(exc).strip().splitlines()
    return lines[0][:160] if lines else ""
