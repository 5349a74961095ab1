from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import main
from app.store import migrate


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BACKEND_REVIEW_DATA_DIR", str(tmp_path / "data"))
    for name in ("DATABASE_URL", "GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH"):
        monkeypatch.delenv(name, raising=False)


def test_db_upgrade_current_downgrade(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["db", "current"]) == 2, "no database yet, and `current` does not make one"
    assert "no database at" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    assert f"database at revision {migrate.head_revision()}" in capsys.readouterr().out
    assert (tmp_path / "data" / "backend-review.db").exists()
    assert main(["db", "downgrade", "base"]) == 0
    assert "base (empty)" in capsys.readouterr().out


def test_configuration_error_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", "sup3r-secret-but-not-a-pem")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "backend-review: configuration error: GITHUB_PRIVATE_KEY: is not a PEM private key "
        "(expected '-----BEGIN ... PRIVATE KEY-----')\n"
    )


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["serve", "--port", "eighty"], ["db"], ["db", "downgrade"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "usage: backend-review" in capsys.readouterr().err


def test_serve_with_bad_setting_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "GITHUB_APP_ID": "not-a-number", "BACKEND_REVIEW_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "backend-review: configuration error: GITHUB_APP_ID: "
        "Input should be a valid integer, unable to parse string as an integer"
    ]
    assert "Traceback" not in done.stderr


def test_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("backend-review ")


def test_unreachable_database_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://nobody:pw-123@127.0.0.1:1/none")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("backend-review: error: ")
    assert err.count("\n") == 1
    assert "pw-123" not in err


def test_unexpected_error_text_is_redacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    token = "ghs_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    # The data directory cannot be created under a file; the OS error quotes the path.
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{blocker}/{token}/x.db")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("backend-review: error: ")
    assert token not in err


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["review", "--bogus"], "usage: backend-review review "),
        (["jobs", "list", "--bogus"], "usage: backend-review jobs list "),
        (["db", "upgrade", "head", "extra"], "usage: backend-review db upgrade "),
    ],
)
def test_an_unknown_option_is_reported_with_its_commands_usage(
    argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage)
    assert "COMMAND ..." not in err, "not the usage of backend-review as a whole"
    [error] = [line for line in err.splitlines() if "error" in line]
    command = usage.removeprefix("usage: ").strip()
    assert error == f"{command}: error: unrecognized arguments: {argv[-1]}"
