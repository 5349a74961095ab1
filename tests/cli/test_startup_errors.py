"""Start-up and database errors through the real entry point: one line on stderr, exit 2, no
traceback, no secret, and nothing created where nothing should be.

`serve` and `worker` run as processes (`python -m app`), as an operator starts them; the `db`
commands run through `app.cli.main.main` in this process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from starlette.applications import Starlette

from app.cli import main as cli_main
from app.cli import startup
from app.cli.main import main
from app.errors import ConfigError
from app.store import migrate

PROC_DIR = Path("/proc")
needs_proc = pytest.mark.skipif(not PROC_DIR.is_dir(), reason="needs Linux's /proc")


pytestmark = pytest.mark.usefixtures("isolated_env")


def run(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGV` in `tmp_path`, with nothing of this machine's settings."""
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "BACKEND_REVIEW_DATA_DIR": str(tmp_path / "data"),
        "BACKEND_REVIEW_LOG_FORMAT": "json",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        env=full_env, cwd=tmp_path, capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip


def the_line(done: subprocess.CompletedProcess[str]) -> str:
    """The one line the process printed, after checking it printed only that and exited 2."""
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stdout == ""
    assert done.returncode == 2
    return done.stderr.rstrip("\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


# --- serve and worker -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_data_directory_under_a_file_is_one_line(tmp_path: Path, command: str) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    url = f"sqlite+aiosqlite:///{blocker}/data/backend-review.db"

    done = run(tmp_path, command, DATABASE_URL=url, BACKEND_REVIEW_PORT=str(free_port()))

    assert the_line(done) == (
        f"backend-review: error: cannot create the database's folder {blocker}/data "
        f"({blocker} is a file): set BACKEND_REVIEW_DATA_DIR (or DATABASE_URL) to a folder "
        "this user can write"
    )
    assert files_under(tmp_path) == [blocker]
    assert blocker.read_text() == ""


@needs_proc
def test_serve_with_a_data_directory_the_system_refuses_is_one_line(tmp_path: Path) -> None:
    done = run(
        tmp_path, "serve", BACKEND_REVIEW_DATA_DIR="/proc/x", BACKEND_REVIEW_PORT=str(free_port())
    )

    line = the_line(done)
    assert line.startswith("backend-review: error: cannot create the database's folder /proc/x (")
    assert line.endswith("to a folder this user can write")


@needs_proc
def test_serve_with_a_database_file_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    done = run(
        tmp_path,
        "serve",
        DATABASE_URL="sqlite+aiosqlite:////proc/backend-review.db",
        BACKEND_REVIEW_PORT=str(free_port()),
    )

    assert the_line(done).startswith(
        "backend-review: error: cannot open the SQLite file /proc/backend-review.db ("
    )


def test_serve_on_a_port_in_use_names_the_setting_and_touches_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        done = run(tmp_path, "serve", BACKEND_REVIEW_PORT=str(port))

    assert the_line(done) == (
        f"backend-review: configuration error: BACKEND_REVIEW_PORT: 127.0.0.1:{port} is already "
        "in use (another server is running there): stop it, or choose another port with --port "
        "or BACKEND_REVIEW_PORT"
    )
    assert files_under(tmp_path) == [], "the port is checked before the database is made"


def test_serve_with_an_unusable_key_stops_before_the_database(tmp_path: Path) -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nbm90LWEta2V5\n-----END RSA PRIVATE KEY-----\n"
    done = run(
        tmp_path,
        "serve",
        GITHUB_APP_ID="12345",
        GITHUB_PRIVATE_KEY=pem,
        GITHUB_WEBHOOK_SECRET="hook-secret-4471",
        BACKEND_REVIEW_PORT=str(free_port()),
    )

    assert the_line(done) == (
        "backend-review: configuration error: GITHUB_PRIVATE_KEY: is not a readable, "
        "unencrypted PEM private key"
    )
    assert "bm90LWEta2V5" not in done.stderr
    assert files_under(tmp_path) == []


def test_serve_with_postgresql_out_of_reach_names_no_password(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://review:pw-90210@127.0.0.1:1/reviews"

    done = run(tmp_path, "serve", DATABASE_URL=url, BACKEND_REVIEW_PORT=str(free_port()))

    line = the_line(done)
    assert line.startswith(
        "backend-review: error: cannot reach the PostgreSQL database reviews at 127.0.0.1:1 ("
    )
    assert line.endswith("): check DATABASE_URL and that the server is up")
    assert "pw-90210" not in line
    assert files_under(tmp_path) == []


def test_an_address_not_of_this_machine_names_the_host_setting() -> None:
    with pytest.raises(ConfigError) as caught:
        startup.listen("192.0.2.1", 8000)  # TEST-NET-1: never an address of this machine
    assert caught.value.setting == "BACKEND_REVIEW_HOST"
    assert caught.value.problem.startswith("cannot listen on 192.0.2.1:8000 (")


def test_a_failure_while_the_app_starts_is_raised_as_itself_not_logged_as_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        raise ConfigError("GITHUB_APP_ID", "is not an App GitHub knows")
        yield

    sock = startup.listen("127.0.0.1", 0)
    with pytest.raises(ConfigError, match="is not an App GitHub knows"):
        startup.serve(Starlette(lifespan=lifespan), sock, log_config=None)
    assert sock.fileno() == -1, "the socket is closed"
    assert "Traceback" not in caplog.text


# --- the db commands --------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["db", "current"], ["db", "downgrade", "base"]])
def test_db_commands_other_than_upgrade_create_no_database(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(argv) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"backend-review: error: no database at {tmp_path / 'data' / 'backend-review.db'}: "
        "the default data directory, ./data, is relative to the working directory, so run "
        "this where `serve` runs or set BACKEND_REVIEW_DATA_DIR to serve's (`db upgrade` "
        "would create a new, empty one)\n"
    )
    assert files_under(tmp_path) == []


def test_db_upgrade_creates_it_then_current_reads_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["db", "current"]) == 0
    assert f"database at revision {migrate.head_revision()}" in capsys.readouterr().out


def test_db_upgrade_into_a_path_under_a_file_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{blocker}/data/backend-review.db")

    assert main(["db", "upgrade"]) == 2

    err = capsys.readouterr().err
    assert err == (
        f"backend-review: error: cannot create the database's folder {blocker}/data ({blocker} "
        "is a file): set BACKEND_REVIEW_DATA_DIR (or DATABASE_URL) to a folder this user can "
        "write\n"
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://review:pw-4411@db.internal:54x2/x",
        # An unencoded @ in the password: SQLAlchemy would read the host as `ss-4411@db...`.
        "postgresql+asyncpg://review:p@ss-4411@db.internal/x",
        "postgresql+asyncpg://review:p@ss/w0rd-4411@db.internal/x",
    ],
)
def test_a_database_url_that_cannot_be_read_is_a_configuration_error_without_the_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)

    assert main(["db", "upgrade"]) == 2

    err = capsys.readouterr().err
    assert err == (
        "backend-review: configuration error: DATABASE_URL: is not a URL SQLAlchemy can read (a "
        "password with @, : or / must be percent-encoded; a port must be a number)\n"
    )


def test_an_unexpected_error_quoting_a_database_url_loses_the_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(_args: object) -> int:
        raise RuntimeError(
            "lost postgresql+asyncpg://review:pw-5521@db.internal/x and "
            "postgresql+asyncpg://review:p@ss-5521@db.internal/x mid-query\nmore"
        )

    monkeypatch.setattr(cli_main, "cmd_db", fails)

    assert main(["db", "current"]) == 2

    assert capsys.readouterr().err == (
        "backend-review: error: RuntimeError: lost postgresql+asyncpg://review:***@db.internal/x "
        "and postgresql+asyncpg://review:***@db.internal/x mid-query\n"
    )
