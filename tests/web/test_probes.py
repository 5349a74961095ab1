from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from app.settings import Settings
from app.store.facade import Store
from app.web.app import create_app
from app.web.services import Services
from tests.conftest import WEBHOOK_SECRET
from tests.fakes import github_payloads as gh

Client = tuple[httpx.AsyncClient, FastAPI]


async def test_healthz(app_client: Client) -> None:
    client, _ = app_client
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_follows_the_schema(app_client: Client) -> None:
    client, app = app_client
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    svc: Services = app.state.services
    await svc.store.downgrade("base")
    behind = await client.get("/readyz")
    assert (behind.status_code, behind.json()["status"]) == (503, "database not migrated")


async def test_readyz_stays_ready_when_a_newer_release_migrated(app_client: Client) -> None:
    client, app = app_client
    svc: Services = app.state.services
    async with svc.store.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe9999'"))

    ahead = await client.get("/readyz")

    assert ahead.status_code == 200
    assert ahead.json() == {"status": "ready", "revision": "f00dcafe9999", "note": "database ahead"}


async def test_metrics_count_deliveries_and_jobs(app_client: Client) -> None:
    client, _ = app_client
    body = gh.encode(gh.pull_request())
    headers = {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "m-1",
        "X-Hub-Signature-256": gh.sign(WEBHOOK_SECRET, body),
    }
    await client.post("/webhooks/github", content=body, headers=headers)
    await client.post("/webhooks/github", content=body, headers=headers)
    replay = {"X-GitHub-Delivery": "m-3"}
    await client.post("/webhooks/github", content=body, headers=headers | replay)
    other = gh.encode({"zen": "Non-blocking is better than blocking."})
    odd = {
        "X-GitHub-Event": "made_up_event",
        "X-GitHub-Delivery": "m-2",
        "X-Hub-Signature-256": gh.sign(WEBHOOK_SECRET, other),
    }
    await client.post("/webhooks/github", content=other, headers=headers | odd)
    text = (await client.get("/metrics")).text
    assert 'backend_review_deliveries_total{event="pull_request",outcome="queued"} 1.0' in text
    assert 'backend_review_deliveries_total{event="pull_request",outcome="duplicate"} 1.0' in text
    assert 'backend_review_deliveries_total{event="pull_request",outcome="replayed"} 1.0' in text
    assert 'backend_review_jobs{state="queued"} 1.0' in text
    assert "backend_review_webhook_seconds_bucket" in text
    assert "backend_review_job_seconds" in text
    # Header values never become label values: unknown events are counted as "other".
    assert 'backend_review_deliveries_total{event="other",outcome="ignored"} 1.0' in text
    assert "made_up_event" not in text


async def test_home_page_says_what_to_configure(app_client: Client) -> None:
    client, _ = app_client
    # Only the webhook secret is set: partly configured, so no one-click setup.
    page = (await client.get("/", headers={"Host": "localhost"})).text
    assert "Partly configured" in page
    for name in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET"):
        assert name in page
    assert "http://localhost/webhooks/github" in page
    assert WEBHOOK_SECRET not in page


async def test_home_page_when_configured(settings: Settings, sqlite_engine: object) -> None:
    configured = settings.model_copy(
        update={"github_app_id": 321, "github_private_key_path": Path("/keys/app.pem")}
    )
    app = create_app(configured, store=Store(sqlite_engine))  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            page = (await client.get("/")).text
    assert "GitHub App <code>321</code>" in page
    # Configured is not connected: the key file cannot be read, so GitHub was not asked
    # (tests/web/test_home.py has the connected page).
    assert "Not connected to GitHub" in page
    assert "GITHUB_PRIVATE_KEY_PATH: cannot read /keys/app.pem" in page
    assert WEBHOOK_SECRET not in page
