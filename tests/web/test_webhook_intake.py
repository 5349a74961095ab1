"""The webhook contract, through the real app and a real SQLite file."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.store.tables import deliveries, jobs
from app.web.services import Services
from tests.conftest import WEBHOOK_SECRET
from tests.fakes import github_payloads as gh

Client = tuple[httpx.AsyncClient, FastAPI]


def headers(
    body: bytes, *, event: str = "pull_request", delivery: str | None = None
) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": gh.sign(WEBHOOK_SECRET, body),
        "Content-Type": "application/json",
    }


async def post(client: httpx.AsyncClient, body: bytes, hdrs: dict[str, str]) -> httpx.Response:
    return await client.post("/webhooks/github", content=body, headers=hdrs)


async def counts(app: FastAPI) -> tuple[int, int]:
    svc: Services = app.state.services
    async with svc.store.engine.connect() as conn:
        n_deliveries = (
            await conn.execute(select(func.count()).select_from(deliveries))
        ).scalar_one()
        n_jobs = (await conn.execute(select(func.count()).select_from(jobs))).scalar_one()
    return n_deliveries, n_jobs


async def job_rows(app: FastAPI) -> list[Any]:
    svc: Services = app.state.services
    async with svc.store.engine.connect() as conn:
        return list((await conn.execute(select(jobs).order_by(jobs.c.id))).all())


async def test_pull_request_opened_is_stored_with_its_job(app_client: Client) -> None:
    client, app = app_client
    body = gh.encode(gh.pull_request("opened"))
    hdrs = headers(body, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    response = await post(client, body, hdrs)
    assert response.status_code == 202
    assert response.json() == {
        "delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "outcome": "queued",
    }
    svc: Services = app.state.services
    async with svc.store.engine.connect() as conn:
        row = (await conn.execute(select(deliveries))).one()
    assert (row.event, row.action, row.installation_id, row.repository) == (
        "pull_request",
        "opened",
        42,
        "acme/payments",
    )
    [job] = await job_rows(app)
    assert (job.kind, job.status, job.delivery_id, job.coalesce_key) == (
        "review",
        "queued",
        row.id,
        "review:1296269:7",
    )


async def test_redelivery_answers_200_and_creates_no_second_job(app_client: Client) -> None:
    client, app = app_client
    body = gh.encode(gh.pull_request("opened"))
    hdrs = headers(body)
    first = await post(client, body, hdrs)
    again = await post(client, body, hdrs)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["outcome"] == "duplicate"
    assert await counts(app) == (1, 1)


async def test_a_signed_body_under_a_new_delivery_id_is_a_replay_and_creates_nothing(
    app_client: Client,
) -> None:
    """GitHub signs the body only, and its redelivery keeps the id: a body we stored, under
    another id, was posted by someone who read it (a webhook channel shows it to anyone)."""
    client, app = app_client
    body = gh.encode(gh.pull_request("synchronize"))
    first = await post(client, body, headers(body))
    replay = await post(client, body, headers(body, delivery="evil-replay-1"))
    assert (first.status_code, replay.status_code) == (202, 200)
    assert replay.json() == {"delivery": "evil-replay-1", "outcome": "replayed"}
    assert await counts(app) == (1, 1)


async def test_unknown_event_is_accepted_and_ignored(app_client: Client) -> None:
    client, app = app_client
    body = gh.encode({"zen": "Keep it logically awesome.", "hook_id": 1})
    response = await post(client, body, headers(body, event="ping"))
    assert response.status_code == 202
    assert response.json()["outcome"] == "ignored"
    assert await counts(app) == (1, 0)


async def test_unhandled_action_is_ignored(app_client: Client) -> None:
    client, app = app_client
    body = gh.encode(gh.pull_request("labeled"))
    response = await post(client, body, headers(body))
    assert (response.status_code, response.json()["outcome"]) == (202, "ignored")
    assert await counts(app) == (1, 0)


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        pytest.param(lambda h, b: h.pop("X-Hub-Signature-256"), 401, id="no-signature"),
        pytest.param(
            lambda h, b: h.update({"X-Hub-Signature-256": gh.sign("nope", b)}),
            401,
            id="wrong-secret",
        ),
        pytest.param(
            lambda h, b: h.update({"X-Hub-Signature-256": h["X-Hub-Signature-256"][7:]}),
            401,
            id="no-prefix",
        ),
        pytest.param(lambda h, b: h.pop("X-GitHub-Delivery"), 400, id="no-delivery-id"),
        pytest.param(
            lambda h, b: h.update({"X-GitHub-Delivery": "a b"}), 400, id="bad-delivery-id"
        ),
        pytest.param(lambda h, b: h.pop("X-GitHub-Event"), 400, id="no-event"),
        pytest.param(
            lambda h, b: h.update({"X-GitHub-Event": "Pull Request"}), 400, id="bad-event"
        ),
    ],
)
async def test_bad_headers_are_refused_and_nothing_is_written(
    app_client: Client, mutate: Any, status: int
) -> None:
    client, app = app_client
    body = gh.encode(gh.pull_request())
    hdrs = headers(body)
    mutate(hdrs, body)
    response = await post(client, body, hdrs)
    assert response.status_code == status
    assert "error" in response.json()
    assert await counts(app) == (0, 0)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="malformed"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[1, 2]", id="array"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(
            gh.encode({"action": "opened", "pull_request": {"number": 7}}), id="missing-fields"
        ),
        pytest.param(
            gh.encode({**gh.pull_request(), "installation": {"id": "forty-two"}}), id="wrong-type"
        ),
    ],
)
async def test_bad_bodies_are_400_and_nothing_is_written(app_client: Client, body: bytes) -> None:
    client, app = app_client
    response = await post(client, body, headers(body))
    assert response.status_code == 400
    assert await counts(app) == (0, 0)


async def test_declared_oversize_body_is_413_before_reading(app_client: Client) -> None:
    client, app = app_client
    body = b"{}"
    hdrs = headers(body) | {"Content-Length": str(25 * 1024 * 1024 + 1)}
    sent = 0

    async def trickle() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(64):
            sent += 1
            yield b" " * 1024

    response = await client.post("/webhooks/github", content=trickle(), headers=hdrs)
    assert response.status_code == 413
    assert sent <= 1, "the app read a body it had already refused"
    assert await counts(app) == (0, 0)


async def test_streamed_oversize_body_is_cut_off_at_the_cap(app_client: Client) -> None:
    client, app = app_client
    chunk = b" " * (1024 * 1024)
    total = 40
    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(total):
            sent += 1
            yield chunk

    hdrs = headers(b"") | {"Transfer-Encoding": "chunked"}
    response = await client.post("/webhooks/github", content=stream(), headers=hdrs)
    assert response.status_code == 413
    assert sent < total
    assert await counts(app) == (0, 0)


async def test_body_at_the_cap_is_accepted(app_client: Client) -> None:
    client, _app = app_client
    base = gh.encode(gh.pull_request())
    body = base[:-1] + b" " * (25 * 1024 * 1024 - len(base)) + b"}"
    assert len(body) == 25 * 1024 * 1024
    response = await post(client, body, headers(body))
    assert response.status_code == 202


async def test_review_jobs_for_one_pr_coalesce(app_client: Client) -> None:
    client, app = app_client
    for head in ("1" * 40, "2" * 40, "3" * 40):
        body = gh.encode(gh.pull_request("synchronize", head=head))
        assert (await post(client, body, headers(body))).status_code == 202
    other = gh.encode(gh.pull_request("opened", number=8))
    await post(client, other, headers(other))
    rows = await job_rows(app)
    assert [(r.status, r.coalesce_key) for r in rows] == [
        ("superseded", "review:1296269:7"),
        ("superseded", "review:1296269:7"),
        ("queued", "review:1296269:7"),
        ("queued", "review:1296269:8"),
    ]
    assert '"head_sha":"' + "3" * 40 in rows[2].payload


async def test_handled_events_route_to_their_jobs(app_client: Client) -> None:
    client, app = app_client
    cases = [
        ("issue_comment", gh.issue_comment("/backend-review ignore br-1 false positive")),
        ("check_run", gh.check_run_rerequested((7, 9))),
        ("check_suite", gh.check_suite_rerequested((11,))),
        ("installation", gh.installation("created")),
        ("installation_repositories", gh.installation("added")),
        ("pull_request_review_comment", gh.review_comment("/backend-review explain")),
        ("check_run", gh.check_run_requested_action()),
    ]
    for event, payload in cases:
        body = gh.encode(payload)
        response = await post(client, body, headers(body, event=event))
        assert (response.status_code, response.json()["outcome"]) == (202, "queued"), event
    kinds = [(r.kind, r.coalesce_key) for r in await job_rows(app)]
    assert kinds == [
        ("command", None),
        ("review", "review:1296269:7"),
        ("review", "review:1296269:9"),
        ("review", "review:1296269:11"),
        ("installation", "installation:42"),
        ("installation", "installation:42"),
        ("command", None),
        ("requested_action", None),
    ]
