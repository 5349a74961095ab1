"""Recovering missed deliveries (app.jobs.recovery): which events are redelivered, how often, within
which bounds, what is said, and the run at start-up, against the fake GitHub and a real
database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.github.client import GitHubApp
from app.github.deliveries import AppHooks, HookDelivery
from app.github.types import GitHubError
from app.jobs.recovery import MAX_WINDOW, RecoveryResult, recover
from app.jobs.recovery import select as select_redeliveries
from app.runtime import github_credentials
from app.settings import Settings
from app.store.db import is_postgres, run_transaction
from app.store.deliveries import NewDelivery, store_deliveries
from app.store.facade import Store
from app.store.tables import deliveries, jobs
from app.web.app import create_app
from tests.conftest import WEBHOOK_SECRET, wait_for
from tests.fakes import github_payloads
from tests.fakes.github_deliveries import Attempt, HookDeliveries, hook_deliveries
from tests.fakes.github_server import FakeGitHub, serve

HOUR = timedelta(hours=1)
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


# --- choosing what to redeliver (pure) -----------------------------------------------------------


def attempt(guid: str, minutes: int, status_code: int = 502, **changes: Any) -> HookDelivery:
    return HookDelivery(
        id=changes.pop("id", 1000 + minutes),
        guid=guid,
        delivered_at=T0 + timedelta(minutes=minutes),
        redelivery=changes.pop("redelivery", False),
        status="OK" if 200 <= status_code < 300 else f"Invalid HTTP Response: {status_code}",
        status_code=status_code,
        event="pull_request",
        action="opened",
        installation_id=1,
        repository_id=2,
        **changes,
    )


def test_failed_and_never_stored_is_redelivered_stored_is_not() -> None:
    chosen = select_redeliveries([attempt("a", 1), attempt("b", 2)], stored={"b"})

    assert [c.guid for c in chosen.candidates] == ["a"]
    assert (chosen.events, chosen.stored, chosen.succeeded) == (2, 1, 0)


def test_the_newest_attempt_of_an_event_decides() -> None:
    attempts = [
        attempt("fixed", 1),
        attempt("fixed", 5, 202, redelivery=True),  # a redelivery that reached us: done
        attempt("still-failing", 2, 200),
        attempt("still-failing", 6, 503, redelivery=True),  # the newest failed: ask again
        attempt("same-second", 3, 500, id=7),
        attempt("same-second", 3, 200, id=8, redelivery=True),  # same time: the later id
    ]

    chosen = select_redeliveries(attempts, stored=set())

    assert [(c.guid, c.id) for c in chosen.candidates] == [("still-failing", 1006)]
    assert chosen.succeeded == 2


def test_a_2xx_with_a_status_other_than_ok_is_a_failure() -> None:
    odd = replace(attempt("x", 1, 200), status="timed out")
    assert [c.guid for c in select_redeliveries([odd], stored=set()).candidates] == ["x"]


def test_candidates_come_oldest_first_whatever_the_listing_order() -> None:
    attempts = [attempt("late", 30), attempt("early", 10), attempt("middle", 20)]
    chosen = select_redeliveries(attempts, stored=set())
    assert [c.guid for c in chosen.candidates] == ["early", "middle", "late"]


# --- one run against the fake GitHub and a real database ----------------------------------------


async def _no_sleep(_: float) -> None:
    return None


def app_settings(fake: FakeGitHub, tmp_path: Path, api_url: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "github_app_id": fake.app_id,
        "github_private_key": fake.private_key_pem,
        "github_webhook_secret": WEBHOOK_SECRET,
        "github_api_url": api_url,
        "data_dir": tmp_path / "data",
        "worker_concurrency": 0,
        **changes,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def github_for(fake: FakeGitHub, tmp_path: Path) -> AsyncIterator[AppHooks]:
    settings = app_settings(fake, tmp_path, "http://github.test/")
    async with GitHubApp(
        github_credentials(settings), async_transport=fake.transport(), sleep=_no_sleep
    ) as github:
        yield AppHooks(github)


async def store(engine: AsyncEngine, *guids: str) -> None:
    batch = [NewDelivery(g, "pull_request", "opened", 1, "acme/payments") for g in guids]
    postgres = is_postgres(engine)
    await run_transaction(
        engine,
        lambda conn: store_deliveries(
            conn, batch, now=datetime.now(UTC), max_attempts=5, postgres=postgres
        ),
    )


async def run_once(
    fake: FakeGitHub, engine: AsyncEngine, tmp_path: Path, **kw: Any
) -> tuple[RecoveryResult, list[str]]:
    said: list[str] = []
    kw.setdefault("window", timedelta(hours=24))
    kw.setdefault("now", fake.now())
    async with github_for(fake, tmp_path) as hooks:
        result = await recover(hooks, Store(engine), say=lambda _, line: said.append(line), **kw)
    return result, said


def failed(log: HookDeliveries, ago: timedelta, **kw: Any) -> Attempt:
    return log.add("pull_request", "opened", status_code=kw.pop("status_code", 502), ago=ago, **kw)


async def test_redelivers_failed_events_we_never_stored_and_nothing_else(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    fake = FakeGitHub()
    log = hook_deliveries(fake)
    missed = failed(log, 3 * HOUR)
    stored_anyway = failed(log, 2 * HOUR)  # GitHub timed out after we had committed it
    log.add("pull_request", "synchronize", ago=HOUR)  # delivered
    too_old = failed(log, 30 * HOUR)
    await store(engine, stored_anyway.guid)

    result, said = await run_once(fake, engine, tmp_path)

    assert log.redelivered == [missed]
    assert [a.guid for a in result.redelivered] == [missed.guid]
    assert too_old not in log.redelivered
    assert (result.listed, result.events, result.failed) == (3, 3, 1)
    assert (result.stored, result.succeeded, result.over_limit) == (1, 1, 0)
    assert said == [
        f"redelivery asked for pull_request.opened guid={missed.guid} (attempt {missed.id} at "
        f"{missed.delivered_at:%Y-%m-%d %H:%M:%S}: 502 Invalid HTTP Response: 502)",
        result.summary(),
    ]
    assert "1 failed and not stored: redelivered 1, refused 0" in result.summary()
    assert fake.errors == []


async def test_a_second_run_redelivers_nothing_new(engine: AsyncEngine, tmp_path: Path) -> None:
    fake = FakeGitHub()
    log = hook_deliveries(fake)
    first = failed(log, 2 * HOUR)
    second = failed(log, HOUR)

    await run_once(fake, engine, tmp_path)
    again, said = await run_once(fake, engine, tmp_path)

    assert log.redelivered == [first, second]  # from the first run only
    assert again.redelivered == []
    assert again.succeeded == 2  # GitHub's newest attempts are the redeliveries, delivered
    assert said == [again.summary()]


async def test_a_redelivery_that_failed_again_is_asked_for_on_the_next_run(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    fake = FakeGitHub()
    log = hook_deliveries(fake)
    log.on_redeliver = lambda _: 503  # we are still down
    missed = failed(log, HOUR)

    await run_once(fake, engine, tmp_path)
    await run_once(fake, engine, tmp_path)

    assert [a.guid for a in log.redelivered] == [missed.guid, missed.guid]
    assert log.redelivered[1].redelivery  # the second run asked for the newest attempt


async def test_at_most_limit_redeliveries_per_run_the_oldest_first(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    fake = FakeGitHub()
    log = hook_deliveries(fake)
    events = [failed(log, (5 - i) * HOUR) for i in range(5)]

    result, _ = await run_once(fake, engine, tmp_path, limit=2)
    rest, _ = await run_once(fake, engine, tmp_path, limit=2)

    assert log.redelivered == events[:4]
    assert (result.over_limit, rest.over_limit) == (3, 1)
    assert "left for the next run 3" in result.summary()


async def test_the_window_is_never_longer_than_githubs_three_days(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    fake = FakeGitHub()
    log = hook_deliveries(fake)
    recent = failed(log, 70 * HOUR)

    now = fake.now()
    result, _ = await run_once(fake, engine, tmp_path, window=timedelta(days=30), now=now)

    assert result.since == now - MAX_WINDOW
    assert log.redelivered == [recent]


async def test_dry_run_asks_for_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    fake = FakeGitHub()
    missed = failed(hook_deliveries(fake), HOUR)

    result, said = await run_once(fake, engine, tmp_path, dry_run=True)

    assert fake.calls_to("POST", "/attempts") == []
    assert [a.guid for a in result.redelivered] == [missed.guid]  # would be
    assert said[0].startswith(f"would redeliver pull_request.opened guid={missed.guid}")
    assert "would redeliver 1" in said[1]


async def test_pages_of_the_listing_are_all_read(engine: AsyncEngine, tmp_path: Path) -> None:
    fake = FakeGitHub()
    log = hook_deliveries(fake)
    for i in range(120):
        log.add("pull_request", "synchronize", ago=timedelta(minutes=200 - i))
    missed = failed(log, timedelta(minutes=500))  # the last page

    result, _ = await run_once(fake, engine, tmp_path)

    assert len(fake.calls_to("GET", r"^/app/hook/deliveries$")) == 2
    assert result.listed == 121
    assert log.redelivered == [missed]


async def test_a_refused_redelivery_is_reported_and_the_run_goes_on(
    engine: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeGitHub()
    log = hook_deliveries(fake)
    refused = failed(log, 2 * HOUR)
    then = failed(log, HOUR)
    fake.fail_next("POST", rf"/{refused.id}/attempts$", 422)
    caplog.set_level(logging.INFO, logger="app.jobs.recovery")

    async with github_for(fake, tmp_path) as hooks:
        result = await recover(hooks, Store(engine), window=timedelta(hours=24), now=fake.now())

    assert log.redelivered == [then]
    assert [(a.guid, reason) for a, reason in result.refused] == [
        (refused.guid, f"GitHub answered 422: Unprocessable Entity (POST /app/hook/deliveries/"
         f"{refused.id}/attempts)")
    ]  # fmt: skip
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "app.jobs.recovery"]
    assert [level for level, _ in lines] == ["WARNING", "INFO", "WARNING"]
    assert lines[0][1].startswith(f"redelivery refused for pull_request.opened guid={refused.guid}")
    assert "refused 1" in lines[2][1]


async def test_a_listing_github_refuses_ends_the_run_with_the_reason(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    fake = FakeGitHub()
    failed(hook_deliveries(fake), HOUR)
    fake.fail_next("GET", r"^/app/hook/deliveries$", 403)

    with pytest.raises(GitHubError) as caught:
        await run_once(fake, engine, tmp_path)

    assert caught.value.status == 403
    assert fake.calls_to("POST", "/attempts") == []


# --- the redelivery reaches the app: stored once, with its job ----------------------------------


async def test_a_redelivered_event_is_stored_with_its_job_and_not_asked_for_again(
    app_client: tuple[httpx.AsyncClient, FastAPI], sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    client, _ = app_client
    loop = asyncio.get_running_loop()
    fake = FakeGitHub()
    log = hook_deliveries(fake)
    body = github_payloads.encode(github_payloads.pull_request("opened"))

    async def post(item: Attempt) -> int:
        headers = {
            "X-GitHub-Delivery": item.guid,
            "X-GitHub-Event": item.event,
            "X-Hub-Signature-256": github_payloads.sign(WEBHOOK_SECRET, body),
            "Content-Type": "application/json",
        }
        answer = await client.post("/webhooks/github", content=body, headers=headers)
        return answer.status_code

    # GitHub's side of a redelivery, on the fake's server thread: POST to our webhook.
    log.on_redeliver = lambda item: asyncio.run_coroutine_threadsafe(post(item), loop).result(10)
    missed = failed(log, HOUR, status_code=0)  # we were down: no answer at all

    with serve(fake) as api_url:
        settings = app_settings(fake, tmp_path, api_url)
        async with GitHubApp(github_credentials(settings), sleep=_no_sleep) as github:
            first = await recover(
                AppHooks(github), Store(sqlite_engine), window=HOUR * 2, now=fake.now()
            )
            second = await recover(
                AppHooks(github), Store(sqlite_engine), window=HOUR * 2, now=fake.now()
            )

    async with sqlite_engine.connect() as conn:
        stored = (await conn.execute(select(deliveries.c.id))).scalars().all()
        queued = (await conn.execute(select(jobs.c.kind, jobs.c.delivery_id))).all()
    assert stored == [missed.guid]
    assert [tuple(row) for row in queued] == [("review", missed.guid)]
    assert [a.guid for a in first.redelivered] == [missed.guid]
    assert second.redelivered == []
    assert second.succeeded == 1
    assert [a.status_code for a in log.of(missed.guid)] == [0, 202]


# --- at start-up ---------------------------------------------------------------------------------


async def test_start_up_recovers_in_the_background_without_delaying_readiness(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    fake = FakeGitHub()
    missed = failed(hook_deliveries(fake), 5 * HOUR)
    failed(hook_deliveries(fake), 7 * HOUR)  # outside BACKEND_REVIEW_RECOVER_SINCE_HOURS
    fake.delay_next("GET", r"^/app/hook/deliveries$", 1.0)

    with serve(fake) as api_url:
        settings = app_settings(fake, tmp_path, api_url, recover_since_hours=6)
        app = create_app(settings, store=Store(sqlite_engine))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                ready = await client.get("/readyz")
                asked_when_ready = list(hook_deliveries(fake).redelivered)
            await wait_for(lambda: hook_deliveries(fake).redelivered, within=10)

    assert ready.status_code == 200
    assert asked_when_ready == []
    assert hook_deliveries(fake).redelivered == [missed]


async def test_start_up_recovery_can_be_switched_off(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    fake = FakeGitHub()
    failed(hook_deliveries(fake), HOUR)

    with serve(fake) as api_url:
        settings = app_settings(fake, tmp_path, api_url, recover_on_start=False)
        app = create_app(settings, store=Store(sqlite_engine))
        async with app.router.lifespan_context(app):
            await asyncio.sleep(0.3)

    assert fake.calls == []


async def test_start_up_recovery_that_fails_only_logs_one_line(
    sqlite_engine: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeGitHub()
    fake.fail_next("GET", r"^/app/hook/deliveries$", 401)

    with serve(fake) as api_url:
        settings = app_settings(fake, tmp_path, api_url)
        app = create_app(settings, store=Store(sqlite_engine))
        async with app.router.lifespan_context(app):
            await wait_for(lambda: fake.calls_to("GET", "/app/hook/deliveries"))
            await wait_for(lambda: any("recovery" in r.getMessage() for r in caplog.records))

    (line,) = [r for r in caplog.records if r.name == "app.jobs.recovery"]
    assert line.levelname == "WARNING"
    assert line.getMessage().startswith(
        "recovery of missed deliveries stopped: GitHub answered 401"
    )
