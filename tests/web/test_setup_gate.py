"""One-click setup only the operator can use (issue 11, item 4), against the fake GitHub.

A visitor who can reach an unconfigured server gets no form without the token printed at
start-up, no page on a Host that is not ours, no App saved from a manifest they edited, and no
setup at all once any GitHub setting exists. Through a proxy or tunnel, a browser on
BACKEND_REVIEW_PUBLIC_URL completes it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.web.setup import STATE_COOKIE
from app.web.setup_gate import TOKEN_COOKIE, host_of
from tests.fakes.github_manifest import manifest_code, pending_codes
from tests.fakes.github_server import FakeGitHub, serve
from tests.web.test_setup import (
    CONVERSIONS,
    forms_of,
    register_form,
    running,
    secret_files,
    settings_for,
)

HOOK_CONFIG = r"^/app/hook/config$"
LINK = re.compile(r"open (http\S+/\?token=([0-9a-f]{40}))")
KEY = "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----"


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def github_url(fake: FakeGitHub) -> Iterator[str]:
    with serve(fake) as url:
        yield url


def token_of(app: FastAPI) -> str:
    token: str | None = app.state.setup_gate.token
    assert token is not None
    return token


# --- the token --------------------------------------------------------------------------------


async def test_the_start_up_log_prints_a_ready_link_and_the_form_needs_it(
    tmp_path: Path, sqlite_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(tmp_path, port=8123)
    async with running(settings, sqlite_engine, with_token=False) as (client, app):
        (found,) = [m for r in caplog.records if (m := LINK.search(r.getMessage()))]
        link, token = found.groups()
        bare = await client.get("/")
        wrong = await client.get("/", params={"token": "0" * 40})
        odd = await client.get("/", params={"token": "tökén"})
        opened = await client.get(link.removeprefix("http://127.0.0.1:8123"))
        again = await client.get("/")  # the cookie carries it from now on
    assert link == f"http://127.0.0.1:8123/?token={token}"
    assert token == token_of(app)
    assert (bare.status_code, wrong.status_code, odd.status_code) == (200, 403, 403)
    for refused in (bare, wrong, odd):
        assert forms_of(refused.text) == []
        assert "the link the server printed in its log" in refused.text
        assert "GITHUB_APP_ID" in refused.text, "configuring by hand is still explained"
        assert "set-cookie" not in refused.headers
        assert token not in refused.text
    register_form(opened.text)
    cookies = opened.headers.get_list("set-cookie")
    assert any(c.startswith(f"{TOKEN_COOKIE}={token};") and "HttpOnly" in c for c in cookies)
    register_form(again.text)
    assert '<meta name="referrer" content="no-referrer">' in opened.text


async def test_the_callback_needs_the_token_and_asks_github_nothing_without_it(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    settings = settings_for(tmp_path, github_api_url=github_url)
    async with running(settings, sqlite_engine) as (client, _):
        _, state, manifest = register_form((await client.get("/")).text)
        code = manifest_code(fake, manifest)
        params = {"code": code, "state": state}
        client.cookies.delete(TOKEN_COOKIE)
        without = await client.get("/setup/callback", params=params)
        client.cookies.set(TOKEN_COOKIE, "f" * 40)
        forged = await client.get("/setup/callback", params=params)
    for response in (without, forged):
        assert response.status_code == 403
        assert "Nothing was asked of GitHub" in response.text
    assert fake.calls == []
    assert code in pending_codes(fake)
    assert secret_files(settings) == []


async def test_the_token_is_spent_once_an_app_is_registered(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    settings = settings_for(tmp_path, github_api_url=github_url)
    async with running(settings, sqlite_engine) as (client, app):
        token = token_of(app)
        _, state, manifest = register_form((await client.get("/")).text)
        done = await client.get(
            "/setup/callback", params={"code": manifest_code(fake, manifest), "state": state}
        )
        later = await client.get("/", params={"token": token})
        assert app.state.setup_gate.token is None
    assert done.status_code == 200
    assert forms_of(later.text) == []
    assert "A GitHub App was registered" in later.text


# --- the Host ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost", True),
        ("localhost:8000", True),
        ("LOCALHOST", True),
        ("app.localhost:8000", True),
        ("127.0.0.1:8000", True),
        ("127.9.9.9", True),
        ("[::1]:8000", True),
        ("review.example.com", True),  # BACKEND_REVIEW_PUBLIC_URL's
        ("review.example.com:443", True),
        ("attacker.example", False),  # a name pointed at us (DNS rebinding)
        ("review.example.com.attacker.example", False),
        ("10.0.0.7:8000", False),
        ("0.0.0.0", False),  # noqa: S104 - a Host header value, not a bind address
        ("", False),
        ("[::1", False),
        ("[::1]x", False),
        ("localhost:http", False),
        ("local host", False),
        ("x" * 400, False),
    ],
)
async def test_setup_pages_answer_only_on_our_hosts(
    tmp_path: Path, sqlite_engine: AsyncEngine, host: str, allowed: bool
) -> None:
    settings = settings_for(tmp_path, public_url="https://review.example.com")
    async with running(settings, sqlite_engine) as (client, app):
        token = token_of(app)
        home = await client.get("/", params={"token": token}, headers={"Host": host})
        back = await client.get("/setup/callback", params={"code": "c"}, headers={"Host": host})
    if allowed:
        assert home.status_code == 200
        assert back.status_code != 400 or "Not on this address" not in back.text
    else:
        assert (home.status_code, back.status_code) == (400, 400)
        assert "Not on this address" in home.text
        assert token not in home.text
        assert host == "" or host not in home.text


def test_host_of_reads_names_ports_and_brackets() -> None:
    assert host_of("Example.COM:8080") == "example.com"
    assert host_of("[::1]:80") == "::1"
    assert host_of("[::1]") == "::1"
    assert host_of("a:b:c") is None
    assert host_of(None) is None
    assert host_of(":80") is None


async def test_a_foreign_host_never_reaches_the_manifest(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    # The case: `Host: attacker.example` used to become the manifest's hook URL.
    async with running(settings_for(tmp_path), sqlite_engine) as (client, _):
        response = await client.get("/", headers={"Host": "attacker.example"})
    assert response.status_code == 400
    assert forms_of(response.text) == []
    assert "attacker.example" not in response.text


# --- the App GitHub made ----------------------------------------------------------------------


def _more_permissions(m: dict[str, Any]) -> None:
    m["default_permissions"] = {**m["default_permissions"], "administration": "write"}


def _their_hook(m: dict[str, Any]) -> None:
    m["hook_attributes"] = {"url": "https://attacker.example/hook", "active": True}


def _fewer_events(m: dict[str, Any]) -> None:
    m["default_events"] = ["pull_request"]


def _their_home(m: dict[str, Any]) -> None:
    m["url"] = "https://attacker.example/"


def _write_contents(m: dict[str, Any]) -> None:
    m["default_permissions"] = {**m["default_permissions"], "contents": "write"}


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (_more_permissions, "not asked for: administration: write"),
        (_write_contents, "not asked for: contents: write"),
        (_their_hook, "its webhook URL is &#x27;https://attacker.example/hook&#x27;"),
        (_fewer_events, "its events are [&#x27;pull_request&#x27;]"),
        (_their_home, "its home URL is &#x27;https://attacker.example/&#x27;"),
    ],
)
async def test_an_app_from_an_edited_manifest_is_refused_and_nothing_is_saved(
    tmp_path: Path,
    sqlite_engine: AsyncEngine,
    fake: FakeGitHub,
    github_url: str,
    tamper: Any,
    named: str,
) -> None:
    settings = settings_for(tmp_path, github_api_url=github_url)
    async with running(settings, sqlite_engine) as (client, app):
        _, state, manifest = register_form((await client.get("/")).text)
        tamper(manifest)  # edited on its way to GitHub
        code = manifest_code(fake, manifest)
        response = await client.get("/setup/callback", params={"code": code, "state": state})
        still_open = app.state.setup_gate.token is not None
    assert response.status_code == 400, response.text
    assert "GitHub created an App, but it was not saved here" in response.text
    assert named in response.text
    assert "https://github.com/apps/backend-review" in response.text
    assert "Delete GitHub App" in response.text
    assert fake.private_key_pem.splitlines()[1] not in response.text
    assert secret_files(settings) == []
    assert still_open, "the operator can start again"


def _answer(fake: FakeGitHub, manifest: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The conversion's answer for `manifest`, as GitHub gives it, with `changes` made."""
    return {
        "id": fake.app_id,
        "slug": fake.app_slug,
        "name": "backend-review",
        "owner": {"login": "acme-platform"},
        "html_url": f"https://github.com/apps/{fake.app_slug}",
        "external_url": manifest["url"],
        "permissions": dict(manifest["default_permissions"]),
        "events": list(manifest["default_events"]),
        "client_id": "Iv23li1",
        "webhook_secret": "whsec-from-the-answer",
        "pem": fake.private_key_pem,
        **changes,
    }


@pytest.mark.parametrize("part", ["conversion", "hook config"])
async def test_a_tampered_answer_for_our_own_manifest_is_refused(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str, part: str
) -> None:
    settings = settings_for(tmp_path, github_api_url=github_url)
    async with running(settings, sqlite_engine) as (client, _):
        _, state, manifest = register_form((await client.get("/")).text)
        code = manifest_code(fake, manifest)
        if part == "conversion":
            more = {**manifest["default_permissions"], "secrets": "write"}
            fake.fail_next("POST", CONVERSIONS, 201, _answer(fake, manifest, permissions=more))
        else:
            hook = {"url": "https://attacker.example/hook", "content_type": "json"}
            fake.fail_next("GET", HOOK_CONFIG, 200, hook)
        response = await client.get("/setup/callback", params={"code": code, "state": state})
    assert response.status_code == 400, response.text
    assert "GitHub created an App, but it was not saved here" in response.text
    named = "secrets: write" if part == "conversion" else "attacker.example/hook"
    assert named in response.text
    assert secret_files(settings) == []


async def test_an_untouched_manifest_is_compared_as_the_new_app(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    settings = settings_for(tmp_path, github_api_url=github_url)
    async with running(settings, sqlite_engine) as (client, _):
        _, state, manifest = register_form((await client.get("/")).text)
        code = manifest_code(fake, manifest)
        response = await client.get("/setup/callback", params={"code": code, "state": state})
    assert response.status_code == 200
    (read,) = fake.calls_to("GET", HOOK_CONFIG)
    assert (read.auth, read.status) == ("jwt", 200)


async def test_when_github_will_not_show_the_new_apps_webhook_the_page_says_an_app_exists(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    settings = settings_for(tmp_path, github_api_url=github_url)
    fake.fail_next("GET", HOOK_CONFIG, 502)
    async with running(settings, sqlite_engine) as (client, _):
        _, state, manifest = register_form((await client.get("/")).text)
        code = manifest_code(fake, manifest)
        response = await client.get("/setup/callback", params={"code": code, "state": state})
    assert response.status_code == 502
    assert "GitHub now has an App named" in response.text
    assert "GitHub did not show the new App&#x27;s webhook (502)" in response.text
    assert secret_files(settings) == []


async def test_a_lost_conversion_answer_warns_that_an_app_may_exist(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    settings = settings_for(tmp_path, github_api_url=github_url)
    fake.fail_next("POST", CONVERSIONS, 503)
    async with running(settings, sqlite_engine) as (client, _):
        _, state, manifest = register_form((await client.get("/")).text)
        code = manifest_code(fake, manifest)
        response = await client.get("/setup/callback", params={"code": code, "state": state})
    assert response.status_code == 502
    assert "GitHub may have created the App even so" in response.text
    assert "Delete GitHub App" in response.text


# --- closed once anything is configured -------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"github_app_id": 7},
        {"github_webhook_secret": "only-the-secret"},
        {"github_private_key": KEY},
        {"github_private_key_path": "/nonexistent/key.pem"},
    ],
)
async def test_partial_configuration_closes_setup(
    tmp_path: Path,
    sqlite_engine: AsyncEngine,
    fake: FakeGitHub,
    github_url: str,
    caplog: pytest.LogCaptureFixture,
    values: dict[str, Any],
) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(tmp_path, github_api_url=github_url, **values)
    code = manifest_code(fake, {"url": "http://localhost/", "hook_attributes": {"url": "http://x"}})
    async with running(settings, sqlite_engine) as (client, app):
        home = await client.get("/", params={"token": "0" * 40})
        client.cookies.set(STATE_COOKIE, "s")
        back = await client.get("/setup/callback", params={"code": code, "state": "s"})
        assert app.state.setup_gate.token is None
    assert "Partly configured" in home.text
    assert forms_of(home.text) == []
    assert back.status_code == 409
    assert not any(LINK.search(r.getMessage()) for r in caplog.records), "no link printed"
    assert fake.calls == []
    assert secret_files(settings) == []


# --- through a proxy or tunnel ----------------------------------------------------------------


async def test_a_browser_on_the_public_url_completes_setup(
    tmp_path: Path,
    sqlite_engine: AsyncEngine,
    fake: FakeGitHub,
    github_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    public = "https://review.example.com"
    settings = settings_for(tmp_path, github_api_url=github_url, public_url=public)
    async with running(settings, sqlite_engine, base_url=public, with_token=False) as (
        client,
        app,
    ):
        (found,) = [m for r in caplog.records if (m := LINK.search(r.getMessage()))]
        assert found.group(1) == f"{public}/?token={token_of(app)}"
        opened = await client.get(found.group(1))
        _, state, manifest = register_form(opened.text)
        code = manifest_code(fake, manifest)
        done = await client.get(f"{public}/setup/callback", params={"code": code, "state": state})
    assert manifest["hook_attributes"]["url"] == f"{public}/webhooks/github"
    assert manifest["redirect_url"] == f"{public}/setup/callback"
    cookies = opened.headers.get_list("set-cookie")
    assert all("Secure" in c for c in cookies)
    assert done.status_code == 200, done.text
    assert "Restart backend-review" in done.text
    assert len(secret_files(settings)) == 3  # the folder and its two files


async def test_on_another_of_our_hosts_the_home_page_says_to_open_the_public_url(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    public = "https://review.example.com"
    settings = settings_for(tmp_path, public_url=public)
    async with running(settings, sqlite_engine, with_token=False) as (client, app):
        token = token_of(app)
        local = await client.get("/", params={"token": token})
        without = await client.get("/")
    assert forms_of(local.text) == []
    assert f'href="{public}/?token={token}"' in local.text
    assert "set-cookie" not in local.headers
    assert token not in without.text
