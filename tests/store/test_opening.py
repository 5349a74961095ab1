"""Opening a database (app.store.opening): readers never create one, and a database that cannot
be opened or reached is a StoreError saying where, never with the URL's password."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from app.errors import StoreError
from app.store import migrate
from app.store.facade import Store
from app.store.opening import NoDatabase, located, sqlite_file


def url_of(path: Path) -> str:
    """As DATABASE_URL would spell it: `?`, `#` and `%` in the path percent-encoded."""
    return URL.create("sqlite+aiosqlite", database=str(path)).render_as_string()


def remove_all(folder: Path) -> None:
    for leftover in folder.iterdir():
        leftover.unlink(missing_ok=True)  # a WAL companion may go as SQLite closes


def listing(folder: Path) -> list[Path]:
    return list(folder.iterdir())


def test_a_reader_gets_no_database_and_nothing_is_made(tmp_path: Path) -> None:
    path = tmp_path / "data" / "backend-review.db"

    with pytest.raises(NoDatabase) as caught:
        Store.open(url_of(path), create=False)

    assert caught.value.path == path
    assert str(caught.value) == f"no database at {path}"
    assert list(tmp_path.iterdir()) == []


async def test_a_file_that_vanishes_after_the_check_is_not_made_again(tmp_path: Path) -> None:
    path = tmp_path / "odd name?#%.db"
    first = Store.open(url_of(path))
    await first.upgrade()
    await first.close()

    reader = Store.open(url_of(path), create=False)
    try:
        assert await reader.revision() == migrate.head_revision()
        await reader.close()
        remove_all(tmp_path)  # the file and its WAL companions
        with pytest.raises(StoreError, match="cannot open the SQLite file"):
            await reader.revision()
    finally:
        await reader.close()
    assert listing(tmp_path) == []


def test_the_readers_url_still_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a b" / "x?.db"
    path.parent.mkdir()
    path.write_bytes(b"")

    url = located(url_of(path), create=False)

    assert url.query["mode"] == "rw"
    assert sqlite_file(url) == path


def test_creating_the_folder_under_a_file_says_which_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    with pytest.raises(StoreError) as caught:
        Store.open(url_of(blocker / "sub" / "x.db"))

    assert str(caught.value).startswith(
        f"cannot create the database's folder {blocker / 'sub'} ({blocker} is a file): "
    )


async def test_an_unreachable_server_is_named_without_user_or_password() -> None:
    store = Store.open("postgresql+asyncpg://admin:pw-3141@127.0.0.1:1/reviews")
    try:
        with pytest.raises(StoreError) as caught:
            await store.upgrade()
    finally:
        await store.close()

    message = str(caught.value)
    assert message.startswith("cannot reach the PostgreSQL database reviews at 127.0.0.1:1 (")
    assert "pw-3141" not in message
    assert "admin" not in message
