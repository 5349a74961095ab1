"""The operator's commands (app.admin): jobs, deliveries, config check and doctor, run through
`app.cli.main.main` against a real SQLite file and the fake GitHub on loopback; their queries on
SQLite and PostgreSQL. One-line errors, exit codes, no secrets in any output."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.cli.main import main
from app.store.db import is_postgres, make_engine, run_transaction
from app.store.deliveries import (
    NewDelivery,
    get_delivery,
    list_deliveries,
    replay_delivery,
    store_deliveries,
    stored_ids,
)
from app.store.job_admin import CANCELLED_ERROR, cancel_jobs, list_jobs, retry_jobs
from app.store.jobs import JobQueue, NewJob
from app.store.tables import jobs
from tests.fakes.github_deliveries import hook_deliveries
from tests.fakes.github_server import FakeGitHub, serve

T = TypeVar("T")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SECRET = "hook-secret-7f3a9c"
MANIFEST = Path(__file__).parent.parent / "deploy" / "app-manifest.yml"


pytestmark = pytest.mark.usefixtures("isolated_env")


class Run:
    """One `backend-review ...` in-process: exit code, stdout, stderr."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self._capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
        out = self._capsys.readouterr()
        return code, out.out, out.err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(capsys)


def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'backend-review.db'}"


def on_db(tmp_path: Path, work: Callable[[AsyncEngine], Any]) -> Any:
    """Run `await work(engine)` on the CLI's database (tests calling main() are not async)."""

    async def run() -> Any:
        engine = make_engine(db_url(tmp_path))
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def migrated(cli: Run) -> None:
    assert cli("db", "upgrade")[0] == 0


def review(number: int) -> NewJob:
    payload = {"repository": "acme/payments", "number": number, "installation_id": 1}
    return NewJob("review", payload, coalesce_key=f"review:1:{number}")


async def store(engine: AsyncEngine, *batch: NewDelivery) -> None:
    postgres = is_postgres(engine)
    await run_transaction(
        engine,
        lambda conn: store_deliveries(conn, batch, now=NOW, max_attempts=5, postgres=postgres),
    )


async def set_job(engine: AsyncEngine, job_id: int, **values: Any) -> None:
    await run_transaction(
        engine, lambda conn: conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))
    )


async def job(engine: AsyncEngine, job_id: int) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(jobs).where(jobs.c.id == job_id))).one()


async def four_jobs(engine: AsyncEngine) -> None:
    """1 queued, 2 running, 3 dead (a two-line error, out of tries), 4 done."""
    await store(
        engine, NewDelivery("d-1", "pull_request", "opened", 1, "acme/payments", (review(1),))
    )
    queue = JobQueue(engine, worker_id="w", max_attempts=5, clock=lambda: NOW)
    await queue.enqueue([review(2), review(3), review(4)])
    await set_job(engine, 2, status="running", attempts=1, locked_by="w", lease_expires_at=NOW)
    await set_job(
        engine, 3, status="dead", attempts=5, last_error="GitHub answered 403: no\nsecond line"
    )
    await set_job(engine, 4, status="done", attempts=1, finished_at=NOW)


# --- jobs -------------------------------------------------------------------------------------


def test_jobs_list_shows_a_table_newest_first(cli: Run, migrated: None, tmp_path: Path) -> None:
    on_db(tmp_path, four_jobs)

    code, out, err = cli("jobs", "list")

    assert (code, err) == (0, "")
    header, *rows = out.splitlines()
    assert header.split() == [
        "id",
        "kind",
        "status",
        "tries",
        "subject",
        "created",
        "(UTC)",
        "last",
        "error",
    ]
    assert [row.split()[0] for row in rows] == ["4", "3", "2", "1"]
    dead = rows[1].split()
    assert dead[:5] == ["3", "review", "dead", "5/5", "acme/payments#3"]
    assert rows[1].endswith("GitHub answered 403: no")  # the first line only
    assert rows[3].split()[-1] == "-"


def test_jobs_list_filters(cli: Run, migrated: None, tmp_path: Path) -> None:
    on_db(tmp_path, four_jobs)

    dead = cli("jobs", "list", "--status", "dead")[1].splitlines()[1:]
    newest = cli("jobs", "list", "--limit", "1")[1].splitlines()[1:]
    other_kind = cli("jobs", "list", "--kind", "command")[1]

    assert [r.split()[0] for r in dead] == ["3"]
    assert [r.split()[0] for r in newest] == ["4"]
    assert other_kind == "no jobs matching\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["jobs"],
        ["jobs", "list", "--status", "lost"],
        ["jobs", "list", "--limit", "0"],
        ["jobs", "list", "--limit", "many"],
        ["jobs", "retry"],
        ["jobs", "retry", "seven"],
        ["jobs", "cancel", "-3"],
        ["deliveries", "replay"],
        ["deliveries", "recover", "--since", "24"],
        ["deliveries", "recover", "--since", "0h"],
        ["deliveries", "recover", "--since", "1w"],
        ["config", "check"],
        ["doctor", "--fix"],
    ],
)
def test_malformed_arguments_are_usage_errors(cli: Run, argv: list[str]) -> None:
    code, out, err = cli(*argv)
    assert code == 2
    assert out == ""
    assert "usage: backend-review" in err
    assert "Traceback" not in err


def test_jobs_retry_requeues_dead_and_done_and_says_what_changed(
    cli: Run, migrated: None, tmp_path: Path
) -> None:
    on_db(tmp_path, four_jobs)

    code, out, _ = cli("jobs", "retry", "3", "4")

    assert code == 0
    assert out.splitlines() == [
        "job 3: dead -> queued (attempts reset, due now)",
        "job 4: done -> queued (attempts reset, due now)",
    ]
    dead = on_db(tmp_path, lambda e: job(e, 3))
    assert (dead.status, dead.attempts, dead.finished_at) == ("queued", 0, None)


def test_jobs_retry_refuses_a_running_job_and_reports_the_rest(
    cli: Run, migrated: None, tmp_path: Path
) -> None:
    on_db(tmp_path, four_jobs)

    code, out, _ = cli("jobs", "retry", "2", "1", "99", "3")

    assert code == 1
    assert out.splitlines() == [
        "job 2: running: refused, a worker has it now; retry it once it is done or dead",
        "job 1: already queued: left as it is",
        "job 99: not found",
        "job 3: dead -> queued (attempts reset, due now)",
    ]
    assert on_db(tmp_path, lambda e: job(e, 2)).status == "running"


def test_jobs_cancel_takes_queued_jobs_out_and_refuses_a_running_one(
    cli: Run, migrated: None, tmp_path: Path
) -> None:
    on_db(tmp_path, four_jobs)

    code, out, _ = cli("jobs", "cancel", "1", "2", "4")

    assert code == 1
    assert out.splitlines() == [
        f"job 1: queued -> superseded ({CANCELLED_ERROR})",
        "job 2: running: refused, a running job cannot be cancelled safely; it finishes or fails "
        "on its own",
        "job 4: done: nothing to cancel (only queued jobs can be)",
    ]
    cancelled = on_db(tmp_path, lambda e: job(e, 1))
    assert (cancelled.status, cancelled.last_error) == ("superseded", CANCELLED_ERROR)
    assert on_db(tmp_path, lambda e: job(e, 2)).status == "running"


def test_no_database_is_one_line_exit_2_and_creates_nothing(cli: Run, tmp_path: Path) -> None:
    code, out, err = cli("jobs", "list")

    assert code == 2
    assert out == ""
    assert err == (
        f"backend-review: error: no database at {tmp_path / 'data' / 'backend-review.db'}: "
        "the default data directory, ./data, is relative to the working directory, so run "
        "this where `serve` runs or set BACKEND_REVIEW_DATA_DIR to serve's (`db upgrade` "
        "would create a new, empty one)\n"
    )
    assert not (tmp_path / "data").exists()


def test_an_unmigrated_database_is_refused(cli: Run, tmp_path: Path) -> None:
    assert cli("db", "upgrade", "0001")[0] == 0

    code, _, err = cli("deliveries", "list")

    assert code == 2
    assert err.startswith("backend-review: error: the database is at revision 0001")
    assert err.endswith("run `backend-review db upgrade`\n")


def test_an_unreachable_database_names_no_password(
    cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://admin:pw-8812@127.0.0.1:1/none")

    code, out, err = cli("jobs", "retry", "1")

    assert code == 2
    assert out == ""
    assert err.startswith(
        "backend-review: error: cannot reach the PostgreSQL database none at 127.0.0.1:1 ("
    )
    assert err.count("\n") == 1
    assert "pw-8812" not in err


# --- deliveries -------------------------------------------------------------------------------


async def three_deliveries(engine: AsyncEngine) -> None:
    await store(
        engine,
        NewDelivery("g-open", "pull_request", "opened", 1, "acme/payments", (review(7),)),
        NewDelivery("g-ping", "ping", None, None, None),
        NewDelivery("g-label", "pull_request", "labeled", 1, "acme/payments"),
    )


def test_deliveries_list_and_filter(cli: Run, migrated: None, tmp_path: Path) -> None:
    on_db(tmp_path, three_deliveries)

    code, out, _ = cli("deliveries", "list")
    only = cli("deliveries", "list", "--event", "ping", "--limit", "5")[1]
    none = cli("deliveries", "list", "--event", "push")[1]

    assert code == 0
    header, *rows = out.splitlines()
    assert header.split()[:4] == ["id", "received", "(UTC)", "event"]
    by_id = {row.split()[0]: row.split() for row in rows}
    assert by_id["g-open"][3:] == ["pull_request.opened", "acme/payments", "queued", "1"]
    assert by_id["g-ping"][3:] == ["ping", "-", "ignored", "0"]
    assert [r.split()[0] for r in only.splitlines()[1:]] == ["g-ping"]
    assert none == "no deliveries stored for push\n"


def test_deliveries_replay_queues_the_stored_jobs_again(
    cli: Run, migrated: None, tmp_path: Path
) -> None:
    on_db(tmp_path, three_deliveries)

    first = cli("deliveries", "replay", "g-open")
    second = cli("deliveries", "replay", "g-open")
    ignored = cli("deliveries", "replay", "g-label")
    unknown = cli("deliveries", "replay", "g-never")

    assert first == (0, "delivery g-open (pull_request.opened): queued again as job 2\n", "")
    assert second == (0, "delivery g-open (pull_request.opened): queued again as job 3\n", "")
    assert ignored == (
        0,
        "delivery g-label (pull_request.labeled, ignored) created no jobs: nothing to replay\n",
        "",
    )
    assert unknown[0] == 1
    assert unknown[2] == (
        "backend-review: error: delivery g-never is not stored; for one that never reached us, "
        "use `backend-review deliveries recover`\n"
    )
    rows = on_db(tmp_path, lambda e: list_jobs(e))
    assert [(r.id, r.status) for r in rows] == [(3, "queued"), (2, "superseded"), (1, "superseded")]
    assert rows[0].payload == rows[2].payload


def app_env(monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub, api_url: str) -> None:
    monkeypatch.setenv("GITHUB_APP_ID", str(fake.app_id))
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", fake.private_key_pem)
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("GITHUB_API_URL", api_url)


def no_secrets(fake: FakeGitHub, *texts: str) -> None:
    key_body = fake.private_key_pem.splitlines()[1]
    for text in texts:
        assert SECRET not in text
        assert key_body not in text


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    with serve(fake) as api_url:
        app_env(monkeypatch, fake, api_url)
        yield fake


def test_deliveries_recover_redelivers_and_prints_what_it_did(
    cli: Run, migrated: None, github: FakeGitHub, tmp_path: Path
) -> None:
    log = hook_deliveries(github)
    missed = log.add("pull_request", "opened", status_code=502, ago=timedelta(hours=2))
    stored = log.add("pull_request", "synchronize", status_code=0, ago=timedelta(hours=1))
    log.add("pull_request", "closed", status_code=500, ago=timedelta(hours=30))
    on_db(
        tmp_path,
        lambda e: store(
            e, NewDelivery(stored.guid, "pull_request", "synchronize", 1, "acme/payments")
        ),
    )

    dry = cli("deliveries", "recover", "--dry-run")
    code, out, err = cli("deliveries", "recover", "--since", "24h")
    again = cli("deliveries", "recover")

    assert dry[0] == 0
    assert dry[1].startswith(f"would redeliver pull_request.opened guid={missed.guid} ")
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"redelivery asked for pull_request.opened guid={missed.guid} ")
    assert "2 delivery attempts of 2 events; 1 failed and not stored: redelivered 1" in lines[1]
    assert "skipped 1 stored despite a failed attempt" in lines[1]
    assert len(lines) == 2
    assert log.redelivered == [missed]
    assert again[0] == 0
    assert "0 failed and not stored: redelivered 0" in again[1]
    no_secrets(github, dry[1], dry[2], out, err, again[1], again[2])


def test_deliveries_recover_past_three_days_says_it_looks_back_three(
    cli: Run, migrated: None, github: FakeGitHub
) -> None:
    log = hook_deliveries(github)
    missed = log.add("ping", status_code=502, ago=timedelta(days=2, hours=20))

    code, _, err = cli("deliveries", "recover", "--since", "7d")

    assert code == 0
    assert err == "note: GitHub keeps deliveries for 3d; looking back 3d\n"
    assert log.redelivered == [missed]


def test_deliveries_recover_reports_refusals_with_exit_1(
    cli: Run, migrated: None, github: FakeGitHub
) -> None:
    log = hook_deliveries(github)
    missed = log.add("ping", status_code=502)
    github.fail_next("POST", "/attempts$", 422)

    code, out, err = cli("deliveries", "recover", "--limit", "5")

    assert code == 1
    assert out == ""
    first, summary = err.splitlines()
    assert first.startswith(f"redelivery refused for ping guid={missed.guid} ")
    assert "GitHub answered 422" in first
    assert "refused 1" in summary


def test_deliveries_recover_when_github_refuses_the_listing(
    cli: Run, migrated: None, github: FakeGitHub
) -> None:
    github.fail_next("GET", r"^/app/hook/deliveries$", 403, {"message": "Forbidden"})

    code, out, err = cli("deliveries", "recover")

    assert (code, out) == (2, "")
    assert err == (
        "backend-review: error: GitHub: GitHub answered 403: Forbidden (GET /app/hook/deliveries)\n"
    )


def test_deliveries_recover_without_an_app_names_the_settings(cli: Run, migrated: None) -> None:
    code, _, err = cli("deliveries", "recover")

    assert code == 2
    assert err == (
        "backend-review: error: the GitHub App is not configured: set GITHUB_APP_ID, "
        "GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH, GITHUB_WEBHOOK_SECRET\n"
    )


# --- config check -----------------------------------------------------------------------------


def test_config_check_valid_prints_ok_and_the_effective_config(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "backend-review.yml"
    path.write_text("fail_on: critical\nignore: ['docs/**']\n")

    code, out, err = cli("config", "check", str(path))

    assert (code, err) == (0, "")
    first, rest = out.split("\n", 1)
    assert first == "ok"
    effective = yaml.safe_load(rest)
    assert effective["fail_on"] == "critical"
    assert effective["ignore"] == ["docs/**"]
    assert effective["max_files"] == 15  # a default, filled in
    assert effective["linear"] == {"enabled": True, "require_issue": False}


def test_config_check_prints_each_problem_on_its_own_line(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("fail_on: blocker\nmax_file: 3\nrules:\n  no-such-rule: false\n")

    code, out, _ = cli("config", "check", str(path))

    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3  # all in one pass: the unknown rule id next to the type errors
    assert lines[0].startswith(f"{path}: fail_on: expected one of critical")
    assert lines[1] == f"{path}: max_file: unknown key (did you mean max_files?)"
    assert lines[2] == f"{path}: rules.no-such-rule: unknown rule"


def test_config_check_invalid_yaml_names_the_line(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text("fail_on: [major\n")

    code, out, _ = cli("config", "check", str(path))

    assert code == 1
    assert out.startswith(f"{path}: line 2, column 1: ")
    assert out.count("\n") == 1


def test_config_check_unreadable_file_is_exit_2(cli: Run, tmp_path: Path) -> None:
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"fail_on: \xff\n")

    missing = cli("config", "check", str(tmp_path / "nope.yml"))
    directory = cli("config", "check", str(tmp_path))
    not_text = cli("config", "check", str(binary))

    nope = tmp_path / "nope.yml"
    assert missing == (
        2, "", f"backend-review: error: cannot read {nope}: No such file or directory\n"
    )  # fmt: skip
    assert directory[0] == 2
    assert directory[2].startswith(f"backend-review: error: cannot read {tmp_path}: ")
    assert not_text == (
        2, "", f"backend-review: error: {binary}: not UTF-8 text (bad byte at offset 9)\n"
    )  # fmt: skip


# --- doctor -----------------------------------------------------------------------------------


def lines_of(out: str) -> dict[str, list[str]]:
    """Doctor's lines by check name: {"github": ["OK", "..."], ...} (several per name kept)."""
    found: dict[str, list[str]] = {}
    for line in out.splitlines()[:-1]:
        level, rest = line.split(maxsplit=1)
        name, message = rest.split(": ", 1)
        found.setdefault(name, []).append(f"{level} {message}")
    return found


def manifest() -> tuple[dict[str, str], list[str]]:
    data = yaml.safe_load(MANIFEST.read_text())
    return dict(data["default_permissions"]), list(data["default_events"])


@pytest.fixture
def app_as_manifest(github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> FakeGitHub:
    """The fake's App registered exactly as the manifest asks."""
    permissions, events = manifest()
    github.app_permissions = dict(permissions)
    github.app_events = list(events)
    return github


def test_doctor_with_nothing_set_fails_and_names_what_is_missing(cli: Run, tmp_path: Path) -> None:
    code, out, err = cli("doctor")

    assert (code, err) == (1, "")
    found = lines_of(out)
    assert found["settings"][0].startswith(
        "FAIL GITHUB_APP_ID, GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH, "
        "GITHUB_WEBHOOK_SECRET not set"
    )
    # The README's way first: one click through serve's setup link, the App kept in the data
    # directory, which doctor reads only from the same place.
    settings_line = found["settings"][0]
    assert "open the setup link it prints" in settings_line
    assert f"the App is kept in {tmp_path / 'data' / 'github-app'}/" in settings_line
    assert "./data is relative to the working directory" in settings_line
    assert "BACKEND_REVIEW_DATA_DIR" in settings_line
    assert "put them in the environment or .env" in settings_line
    assert found["database"][0].startswith("WARN no database yet at ")
    assert found["model"] == [
        "WARN ANTHROPIC_API_KEY is not set: reviews run on the rules alone; set it for the "
        "model's review"
    ]
    assert found["linear"][0].startswith("WARN LINEAR_API_KEY not set")
    assert found["model table"] == [
        "OK Claude Sonnet 4.6: tool choice auto, thinking enabled, max_tokens 12192, "
        "cost at list prices"
    ]
    assert "github" not in found
    assert out.splitlines()[-1] == "doctor: 1 ok, 3 warnings, 1 failures"


def test_doctor_with_a_malformed_setting_names_it_never_its_value(
    cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", "not-a-key-s3cr3t")

    code, out, _ = cli("doctor")

    assert code == 1
    assert out.splitlines()[0] == (
        "FAIL  settings: GITHUB_PRIVATE_KEY: is not a PEM private key (expected '-----BEGIN ... "
        "PRIVATE KEY-----'): fix this variable (environment or .env); nothing else was checked"
    )
    assert "s3cr3t" not in out


def test_doctor_with_an_unreachable_database(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://admin:pw-5150@127.0.0.1:1/none")

    code, out, _ = cli("doctor")

    assert code == 1
    assert lines_of(out)["database"][0].startswith(
        "FAIL cannot reach the PostgreSQL database none at 127.0.0.1:1 ("
    )
    assert "pw-5150" not in out


def test_doctor_all_good(
    cli: Run, migrated: None, app_as_manifest: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-doctor-0000000000000")
    monkeypatch.setenv("LINEAR_API_KEY", "lin_api_doctor000000000")

    code, out, err = cli("doctor")

    assert (code, err) == (0, "")
    found = lines_of(out)
    assert [v[0].split()[0] for v in found.values()] == ["OK"] * 8
    assert found["github"][0].endswith(f"accepts the App's key: App '{app_as_manifest.app_slug}'")
    assert out.splitlines()[-1] == "doctor: 8 ok, 0 warnings, 0 failures"
    assert "sk-ant-doctor" not in out
    assert "lin_api_doctor" not in out
    no_secrets(app_as_manifest, out)


def test_doctor_names_the_permission_and_events_the_app_lacks(
    cli: Run, migrated: None, github: FakeGitHub
) -> None:
    # An App registered before merge queues: no merge_queues, members beyond the manifest,
    # and subscribed to none of check_suite, merge_group, pull_request_review_comment.
    del github.app_permissions["merge_queues"]
    github.app_permissions["members"] = "read"
    github.app_events = ["check_run", "issue_comment", "pull_request"]

    code, out, _ = cli("doctor")

    assert code == 1
    found = lines_of(out)
    assert found["github"][0].startswith("OK ")
    lacking, extra = found["permissions"]
    assert lacking.startswith("FAIL the App lacks merge_queues: read: grant them on ")
    assert extra.startswith("WARN the App has more than it needs: members: read;")
    assert found["events"][0].startswith(
        "FAIL the App is not subscribed to check_suite, merge_group, pull_request_review_comment:"
    )


def test_doctor_names_a_permission_granted_too_low(
    cli: Run, migrated: None, app_as_manifest: FakeGitHub
) -> None:
    app_as_manifest.app_permissions["pull_requests"] = "read"

    code, out, _ = cli("doctor")

    assert code == 1
    assert lines_of(out)["permissions"][0].startswith(
        "FAIL the App lacks pull_requests: write (has read): grant them"
    )


def test_doctor_when_github_refuses_the_app(
    cli: Run, migrated: None, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_APP_ID", "999")  # not the App this key belongs to

    code, out, _ = cli("doctor")

    assert code == 1
    message = lines_of(out)["github"][0]
    assert message.startswith("FAIL GitHub refused the App's JWT (GitHub answered 401")
    assert "check that GITHUB_APP_ID is the App the private key belongs to" in message
    assert "permissions" not in lines_of(out)


def test_doctor_when_github_cannot_be_reached(
    cli: Run, migrated: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_env(monkeypatch, FakeGitHub(), "http://127.0.0.1:1/")

    code, out, _ = cli("doctor")

    assert code == 1
    assert lines_of(out)["github"][0].startswith(
        "FAIL cannot reach http://127.0.0.1:1/ (connection to GitHub failed"
    )


def test_doctor_warns_about_a_database_behind_the_newest_migration(
    cli: Run, tmp_path: Path
) -> None:
    assert cli("db", "upgrade", "0001")[0] == 0

    code, out, _ = cli("doctor")

    assert lines_of(out)["database"][0].startswith("WARN at revision 0001, the newest is ")
    assert code == 1  # the missing App settings, not the database


def test_no_traceback_from_the_real_process(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "BACKEND_REVIEW_DATA_DIR": str(tmp_path / "nothing")}
    done = subprocess.run(
        [sys.executable, "-m", "app", "jobs", "cancel", "1"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


# --- the queries, on SQLite and PostgreSQL ----------------------------------------------------


async def test_retry_and_cancel_change_only_what_they_may(engine: AsyncEngine) -> None:
    await four_jobs(engine)
    later = NOW + timedelta(minutes=5)

    retried = await retry_jobs(engine, [3, 4, 2, 1, 3, 42], now=later)
    cancelled = await cancel_jobs(engine, [1, 2, 3], now=later)

    assert [(c.id, c.before, c.after) for c in retried] == [
        (3, "dead", "queued"), (4, "done", "queued"), (2, "running", None),
        (1, "queued", None), (42, None, None),
    ]  # fmt: skip
    assert [(c.id, c.before, c.after) for c in cancelled] == [
        (1, "queued", "superseded"), (2, "running", None), (3, "queued", "superseded"),
    ]  # fmt: skip
    four = await job(engine, 4)
    assert (four.status, four.attempts, four.run_after, four.finished_at) == (
        "queued",
        0,
        later,
        None,
    )
    running = await job(engine, 2)
    assert (running.status, running.locked_by) == ("running", "w")


async def test_a_retried_dead_job_is_claimed_again_with_fresh_attempts(engine: AsyncEngine) -> None:
    await four_jobs(engine)
    await cancel_jobs(engine, [1], now=NOW)
    await retry_jobs(engine, [3], now=NOW)
    queue = JobQueue(engine, worker_id="w2", max_attempts=5, clock=lambda: NOW)

    claimed = await queue.claim()

    assert claimed is not None
    assert (claimed.id, claimed.attempts) == (3, 1)


async def test_list_jobs_filters_and_orders(engine: AsyncEngine) -> None:
    await four_jobs(engine)

    assert [j.id for j in await list_jobs(engine)] == [4, 3, 2, 1]
    assert [j.id for j in await list_jobs(engine, status="done")] == [4]
    assert [j.id for j in await list_jobs(engine, kind="review", limit=2)] == [4, 3]
    assert await list_jobs(engine, kind="command") == []


async def test_deliveries_queries(engine: AsyncEngine) -> None:
    await three_deliveries(engine)
    many = [f"guid-{i}" for i in range(1200)]

    listed = await list_deliveries(engine)
    found = await stored_ids(engine, [*many, "g-ping", "g-open"])
    one = await get_delivery(engine, "g-open")

    assert {d.id: d.jobs for d in listed} == {"g-open": 1, "g-ping": 0, "g-label": 0}
    assert [d.id for d in await list_deliveries(engine, event="ping")] == ["g-ping"]
    assert len(await list_deliveries(engine, limit=2)) == 2
    assert found == {"g-ping", "g-open"}
    assert one is not None
    assert (one.event, one.action, one.outcome, one.jobs) == ("pull_request", "opened", "queued", 1)
    assert await get_delivery(engine, "nope") is None


async def test_replay_queues_each_distinct_job_once(engine: AsyncEngine) -> None:
    job_a = NewJob("installation", {"installation_id": 1, "action": "created"})
    job_b = NewJob("installation", {"installation_id": 2, "action": "created"})
    await store(engine, NewDelivery("g-two", "installation", "created", 1, None, (job_a, job_b)))

    first = await replay_delivery(engine, "g-two", now=NOW, max_attempts=3)
    second = await replay_delivery(engine, "g-two", now=NOW, max_attempts=3)

    assert first == [3, 4]
    assert second == [5, 6]
    rows = await list_jobs(engine)
    assert [json.dumps(r.payload, sort_keys=True) for r in rows[:2]] == [
        json.dumps(job_b.payload, sort_keys=True), json.dumps(job_a.payload, sort_keys=True)
    ]  # fmt: skip
    assert {r.max_attempts for r in rows[:2]} == {3}
    assert await replay_delivery(engine, "g-none", now=NOW, max_attempts=3) is None
