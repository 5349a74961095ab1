"""The App's delivery endpoints (app.github.deliveries) against the fake GitHub over its wire:
JWT auth, cursor pages from the Link header, stopping at `since`, redelivery, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from app.github.client import GitHubApp
from app.github.deliveries import AppHooks, HookDelivery
from app.github.types import GitHubError
from app.runtime import github_credentials
from app.settings import Settings
from tests.fakes.github_deliveries import HookDeliveries, hook_deliveries
from tests.fakes.github_server import FakeGitHub


async def _no_sleep(_: float) -> None:
    return None


def settings_for(fake: FakeGitHub, tmp_path: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "github_app_id": fake.app_id,
        "github_private_key": fake.private_key_pem,
        "github_api_url": "http://github.test/",
        "data_dir": tmp_path / "data",
        **changes,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def hooks_for(fake: FakeGitHub, tmp_path: Path) -> AsyncIterator[AppHooks]:
    settings = settings_for(fake, tmp_path)
    async with GitHubApp(
        github_credentials(settings), async_transport=fake.transport(), sleep=_no_sleep
    ) as github:
        yield AppHooks(github)


async def listed(
    hooks: AppHooks, fake: FakeGitHub, *, hours: float = 24, **kw: Any
) -> list[HookDelivery]:
    since = fake.now() - timedelta(hours=hours)
    return [d async for d in hooks.deliveries(since=since, **kw)]


def five(log: HookDeliveries) -> list[str]:
    """Five events, an hour apart, the oldest first; their guids."""
    return [log.add("pull_request", "opened", ago=timedelta(hours=5 - i)).guid for i in range(5)]


async def test_lists_every_page_newest_first_following_the_cursor(tmp_path: Path) -> None:
    fake = FakeGitHub()
    guids = five(hook_deliveries(fake))

    async with hooks_for(fake, tmp_path) as hooks:
        found = await listed(hooks, fake, per_page=2)

    assert [d.guid for d in found] == guids[::-1]
    pages = fake.calls_to("GET", r"^/app/hook/deliveries$")
    assert len(pages) == 3
    assert [c.auth for c in pages] == ["jwt"] * 3
    assert "cursor" not in pages[0].query
    assert pages[1].query["cursor"] == f"v1_{found[1].id}"
    assert {c.query["per_page"] for c in pages} == {"2"}
    assert fake.errors == []


async def test_stops_paging_at_the_first_attempt_older_than_since(tmp_path: Path) -> None:
    fake = FakeGitHub()
    guids = five(hook_deliveries(fake))  # 5 h, 4 h, 3 h, 2 h, 1 h ago

    async with hooks_for(fake, tmp_path) as hooks:
        found = await listed(hooks, fake, hours=2.5, per_page=2)

    assert [d.guid for d in found] == [guids[4], guids[3]]
    # The first page held the two; the second showed an older one: no third page asked for.
    assert len(fake.calls_to("GET", r"^/app/hook/deliveries$")) == 2


async def test_max_pages_bounds_the_listing(tmp_path: Path) -> None:
    fake = FakeGitHub()
    five(hook_deliveries(fake))

    async with hooks_for(fake, tmp_path) as hooks:
        found = await listed(hooks, fake, per_page=1, max_pages=3)

    assert len(found) == 3


async def test_an_attempt_is_read_with_every_field(tmp_path: Path) -> None:
    fake = FakeGitHub()
    log = hook_deliveries(fake)
    made = log.add(
        "issue_comment",
        "created",
        status_code=503,
        installation_id=42,
        repository_id=7001,
        ago=timedelta(minutes=3),
    )
    ping = log.add("ping", status_code=0)

    async with hooks_for(fake, tmp_path) as hooks:
        found = await listed(hooks, fake)
        one = await hooks.delivery(made.id)

    first = next(d for d in found if d.guid == made.guid)
    assert first == one
    assert first.id == made.id
    assert first.name == "issue_comment.created"
    assert (first.status_code, first.status) == (503, "Invalid HTTP Response: 503")
    assert not first.succeeded
    assert not first.redelivery
    assert (first.installation_id, first.repository_id) == (42, 7001)
    assert first.delivered_at == made.delivered_at
    timed_out = next(d for d in found if d.guid == ping.guid)
    assert (timed_out.name, timed_out.action, timed_out.succeeded) == ("ping", None, False)


def test_success_is_a_2xx_with_status_ok() -> None:
    base: dict[str, Any] = {
        "id": 1, "guid": "g", "delivered_at": None, "redelivery": False, "event": "ping",
        "action": None, "installation_id": None, "repository_id": None,
    }  # fmt: skip
    assert HookDelivery(**base, status="OK", status_code=202).succeeded
    assert not HookDelivery(**base, status="OK", status_code=500).succeeded
    assert not HookDelivery(**base, status="timed out", status_code=200).succeeded


async def test_redeliver_asks_github_with_the_jwt_and_github_makes_a_new_attempt(
    tmp_path: Path,
) -> None:
    fake = FakeGitHub()
    log = hook_deliveries(fake)
    failed = log.add("pull_request", "synchronize", status_code=502, ago=timedelta(hours=1))

    async with hooks_for(fake, tmp_path) as hooks:
        await hooks.redeliver(failed.id)
        after = await listed(hooks, fake)

    (call,) = fake.calls_to("POST", r"^/app/hook/deliveries/\d+/attempts$")
    assert call.path == f"/app/hook/deliveries/{failed.id}/attempts"
    assert (call.auth, call.status) == ("jwt", 202)
    assert log.redelivered == [failed]
    newest = after[0]
    assert (newest.guid, newest.redelivery, newest.succeeded) == (failed.guid, True, True)
    assert newest.id != failed.id


async def test_a_redelivery_is_not_repeated_when_github_fails(tmp_path: Path) -> None:
    fake = FakeGitHub()
    failed = hook_deliveries(fake).add("pull_request", "opened", status_code=502)
    fake.fail_next("POST", r"/attempts$", 502, times=3)

    async with hooks_for(fake, tmp_path) as hooks:
        with pytest.raises(GitHubError) as caught:
            await hooks.redeliver(failed.id)

    assert caught.value.status == 502
    assert len(fake.calls_to("POST", r"/attempts$")) == 1


async def test_a_listing_that_fails_for_good_is_a_github_error_saying_so(tmp_path: Path) -> None:
    fake = FakeGitHub()
    fake.fail_next("GET", r"^/app/hook/deliveries$", 404)

    async with hooks_for(fake, tmp_path) as hooks:
        with pytest.raises(GitHubError) as caught:
            await listed(hooks, fake)

    assert caught.value.status == 404
    assert "GET /app/hook/deliveries" in caught.value.reason


async def test_a_jwt_github_refuses_is_a_401(tmp_path: Path) -> None:
    fake = FakeGitHub()
    other_app = FakeGitHub(app_id=999)  # same key, other App id: GitHub says "iss" is wrong
    settings = settings_for(other_app, tmp_path)

    async with GitHubApp(
        github_credentials(settings), async_transport=fake.transport(), sleep=_no_sleep
    ) as github:
        with pytest.raises(GitHubError) as caught:
            await AppHooks(github).app()

    assert caught.value.status == 401


async def test_redelivering_an_unknown_attempt_is_a_404(tmp_path: Path) -> None:
    fake = FakeGitHub()

    async with hooks_for(fake, tmp_path) as hooks:
        with pytest.raises(GitHubError) as caught:
            await hooks.redeliver(12345)

    assert caught.value.status == 404


async def test_the_app_as_registered(tmp_path: Path) -> None:
    fake = FakeGitHub()
    fake.app_permissions = {"checks": "write", "metadata": "read"}

    async with hooks_for(fake, tmp_path) as hooks:
        info = await hooks.app()

    assert info.slug == fake.app_slug
    assert info.permissions == {"checks": "write", "metadata": "read"}
    assert "pull_request" in info.events


# --- the fake itself, where the client above does not reach -----------------------------------


async def app_get(fake: FakeGitHub, path: str, **params: str) -> httpx.Response:
    """A GET with the App's JWT, straight to the fake."""
    now = int(fake.now().timestamp())
    token = jwt.encode(
        {"iss": str(fake.app_id), "iat": now - 60, "exp": now + 540},
        fake.private_key_pem,
        algorithm="RS256",
    )
    async with httpx.AsyncClient(transport=fake.transport(), base_url="http://github.test") as c:
        return await c.get(path, params=params, headers={"authorization": f"Bearer {token}"})


async def test_fake_keeps_three_days_filters_by_status_and_refuses_a_bad_cursor() -> None:
    fake = FakeGitHub()
    log = hook_deliveries(fake)
    gone = log.add("ping", ago=timedelta(days=3, minutes=1))  # past GitHub's retention
    ok = log.add("ping", ago=timedelta(hours=2))
    bad = log.add("ping", status_code=500, ago=timedelta(hours=1))

    everything = await app_get(fake, "/app/hook/deliveries")
    failures = await app_get(fake, "/app/hook/deliveries", status="failure")
    successes = await app_get(fake, "/app/hook/deliveries", status="success")
    bad_cursor = await app_get(fake, "/app/hook/deliveries", cursor="v1_nope")
    expired = await app_get(fake, f"/app/hook/deliveries/{gone.id}")
    one = await app_get(fake, f"/app/hook/deliveries/{bad.id}")

    assert [d["guid"] for d in everything.json()] == [bad.guid, ok.guid]
    assert "link" not in everything.headers
    assert [d["guid"] for d in failures.json()] == [bad.guid]
    assert [d["guid"] for d in successes.json()] == [ok.guid]
    assert bad_cursor.status_code == 400
    assert expired.status_code == 404
    assert one.json()["request"]["headers"]["X-GitHub-Delivery"] == bad.guid
    assert one.json()["status_code"] == 500


async def test_fake_link_names_only_the_next_page_with_the_query_kept() -> None:
    fake = FakeGitHub()
    five(hook_deliveries(fake))

    first = await app_get(fake, "/app/hook/deliveries", per_page="2", status="success")

    assert len(first.json()) == 2
    assert first.headers["link"] == (
        "<http://github.test/app/hook/deliveries?per_page=2&status=success"
        f'&cursor=v1_{first.json()[1]["id"]}>; rel="next"'
    )


async def test_fake_wants_the_app_jwt() -> None:
    fake = FakeGitHub()
    async with httpx.AsyncClient(transport=fake.transport(), base_url="http://github.test") as c:
        answer = await c.get("/app/hook/deliveries")
    assert answer.status_code == 401
