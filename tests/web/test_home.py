"""The home page of a configured server tells the truth: "Connected" only when GitHub answered
GET /app, doctor's checks, the permissions and events against deploy/app-manifest.yml, where the
App is installed, the install link, the last delivery and the last failures; GitHub asked at most
once a minute. And on a laptop it offers the webhook channel, which registration then uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from app.store.facade import Store
from app.web.app import create_app
from app.web.status import MANIFEST_FILE, StatusCache, probe_github
from tests.conftest import WEBHOOK_SECRET
from tests.fakes.github_manifest import manifest_code
from tests.fakes.github_payloads import pull_request, sign
from tests.fakes.github_server import FakeGitHub, serve
from tests.web.test_setup import register_form, running, settings_for

NOT_A_KEY = "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----"
CHANNEL = "https://smee.io/Xq3mWn8pZkLc2"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def home(
    settings: Settings, engine: AsyncEngine, clock: Clock | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    app = create_app(settings, store=Store(engine))
    if clock is not None:
        app.state.github_status = StatusCache(partial(probe_github, settings), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield client, app


def configured(tmp_path: Path, api_url: str, key: str, **values: Any) -> Settings:
    return settings_for(
        tmp_path,
        github_app_id=FakeGitHub().app_id,
        github_private_key=key,
        github_webhook_secret=WEBHOOK_SECRET,
        github_api_url=api_url,
        recover_on_start=False,
        **values,
    )


@pytest.fixture
def fake() -> FakeGitHub:
    github = FakeGitHub()
    manifest = yaml.safe_load(MANIFEST_FILE.read_text())
    github.app_permissions = dict(manifest["default_permissions"])
    github.app_events = list(manifest["default_events"])
    return github


@pytest.fixture
def github_url(fake: FakeGitHub) -> Iterator[str]:
    with serve(fake) as url:
        yield url


async def operator_page(client: httpx.AsyncClient, app: FastAPI) -> str:
    """The home page as the operator sees it: through the status link printed at start-up."""
    token = app.state.setup_gate.status_token
    moved = await client.get("/", params={"token": token})
    # The token goes into a cookie and out of the address bar.
    assert (moved.status_code, moved.headers["location"]) == (303, "/")
    assert "httponly" in moved.headers["set-cookie"].lower()
    return (await client.get("/")).text


def app_calls(fake: FakeGitHub) -> int:
    return sum(1 for call in fake.calls if call.method == "GET" and call.path == "/app")


# --- nothing connected --------------------------------------------------------------------------


async def test_a_key_that_is_not_a_key_is_not_connected(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    settings = configured(tmp_path, "http://127.0.0.1:9", NOT_A_KEY)
    async with home(settings, sqlite_engine) as (client, _):
        page = (await client.get("/")).text
    assert "Not connected to GitHub" in page
    assert "Connected</strong> as" not in page
    assert "GITHUB_PRIVATE_KEY" in page
    assert "GitHub was not asked" in page
    assert "its settings cannot be used, so GitHub was not asked" in page
    assert "installations/new" not in page
    assert "not a key" not in page
    assert WEBHOOK_SECRET not in page


async def test_a_github_out_of_reach_is_not_connected(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub
) -> None:
    settings = configured(tmp_path, "http://127.0.0.1:9", fake.private_key_pem)
    async with home(settings, sqlite_engine) as (client, _):
        page = (await client.get("/")).text
    assert "Not connected to GitHub" in page
    assert "<code>http://127.0.0.1:9/</code> could not be reached, so no review can run" in page
    assert "refused" not in page, "GitHub said nothing: it refused nothing"
    assert "cannot reach http://127.0.0.1:9" in page
    assert "Connected</strong> as" not in page
    assert "-----BEGIN" not in page
    assert WEBHOOK_SECRET not in page


async def test_a_key_github_refuses_is_not_connected(
    tmp_path: Path, sqlite_engine: AsyncEngine, github_url: str
) -> None:
    other = FakeGitHub(private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    settings = configured(tmp_path, github_url, other.private_key_pem)  # a key, not this App's
    async with home(settings, sqlite_engine) as (client, _):
        page = (await client.get("/")).text
    assert "Not connected to GitHub" in page
    assert "</code> refused it, so no review can run" in page
    assert "could not be reached" not in page
    assert "GitHub refused the App&#x27;s JWT" in page


# --- connected ------------------------------------------------------------------------------------


async def test_connected_shows_the_app_its_permissions_its_installs_and_the_link(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    del fake.app_permissions["merge_queues"]
    fake.app_events.append("push")
    fake.add_repo("acme/payments")  # installed on the whole account
    fake.add_repo("acme/ledger")
    octo = fake.add_installation("octo", repositories=[], account_type="User")
    for n in range(25):
        fake.add_repo(f"octo/r{n:02}", installation_id=octo.id)
    settings = configured(tmp_path, github_url, fake.private_key_pem)
    async with home(settings, sqlite_engine) as (client, app):
        page = await operator_page(client, app)
    assert "<strong>Connected</strong> as GitHub App" in page
    assert f'<a href="https://github.com/apps/{fake.app_slug}">' in page
    assert "the App lacks merge_queues: read" in page
    assert "subscribed to events nothing here handles: push" in page
    assert f'href="https://github.com/apps/{fake.app_slug}/installations/new"' in page
    assert (
        "<code>acme</code> (Organization), all repositories: <code>acme/payments</code>, "
        "<code>acme/ledger</code></li>"
    ) in page
    assert "<code>octo</code> (User), selected repositories: <code>octo/r00</code>" in page
    assert "<code>octo/r19</code> and 5 more" in page
    assert "octo/r20" not in page
    assert "-----BEGIN" not in page
    assert WEBHOOK_SECRET not in page


async def test_an_app_installed_nowhere_says_so_with_the_link(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    settings = configured(tmp_path, github_url, fake.private_key_pem)
    async with home(settings, sqlite_engine) as (client, app):
        page = await operator_page(client, app)
    assert "exactly the ones deploy/app-manifest.yml asks" in page
    assert "Not installed anywhere yet" in page
    assert f"https://github.com/apps/{fake.app_slug}/installations/new" in page


async def test_github_is_asked_once_a_minute(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    clock = Clock()
    settings = configured(tmp_path, github_url, fake.private_key_pem)
    async with home(settings, sqlite_engine, clock) as (client, _):
        for _ in range(3):
            assert "Connected</strong> as" in (await client.get("/")).text
        assert app_calls(fake) == 1
        clock.now += 59
        await client.get("/")
        assert app_calls(fake) == 1
        clock.now += 1
        await client.get("/")
        assert app_calls(fake) == 2


async def test_the_last_delivery_and_the_last_failures(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    settings = configured(tmp_path, github_url, fake.private_key_pem)
    async with home(settings, sqlite_engine) as (client, app):
        page = await operator_page(client, app)
        assert "No delivery received yet" in page
        assert "<h2>Recent failures</h2><p>None.</p>" in page
        body = httpx.Request("POST", "/", json=pull_request()).content
        headers = {
            "x-github-event": "pull_request",
            "x-github-delivery": "d-1",
            "x-hub-signature-256": sign(WEBHOOK_SECRET, body),
            "content-type": "application/json",
        }
        assert (
            await client.post("/webhooks/github", content=body, headers=headers)
        ).status_code == 202
        queue = app.state.services.queue
        job = await queue.claim()
        assert job is not None
        await queue.fail(
            job, "GitHub at http://x could not be reached <ConnectError>", permanent=True
        )
        page = (await client.get("/")).text  # the link's token is kept in a cookie
        stranger = httpx.AsyncClient(transport=client._transport, base_url="http://localhost")
        async with stranger:
            public = (await stranger.get("/", params={"token": "0" * 40})).text
    assert "<strong>Connected</strong> as GitHub App" in public
    for private in ("acme/payments", "Last delivery", "ConnectError", "Recent failures"):
        assert private not in public
    assert "status link the server printed" in public
    assert "Install the App" in public
    assert (
        "Last delivery received: <code>pull_request.opened</code> on <code>acme/payments</code>"
        in page
    )
    assert "<code>review</code>, dead after 1/5 attempts" in page
    assert "could not be reached &lt;ConnectError&gt;" in page


# --- on a laptop: the webhook channel -----------------------------------------------------------


async def test_a_loopback_server_is_offered_the_channel(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    settings = configured(tmp_path, github_url, fake.private_key_pem)
    async with home(settings, sqlite_engine) as (client, _):
        page = (await client.get("/")).text
    assert "GitHub cannot reach <code>http://localhost</code>" in page
    assert '<a href="https://smee.io/new">' in page
    assert "<code>./scripts/serve --webhook-proxy https://smee.io/…</code>" in page
    assert "open the new link it prints" in page, "a restart makes a new status link"
    assert "set its <em>Webhook URL</em> to the channel's address" in page


async def test_with_a_channel_the_page_shows_the_forwarder_and_no_offer(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    settings = configured(
        tmp_path, github_url, fake.private_key_pem, webhook_proxy_url="http://127.0.0.1:9/chan"
    )
    async with home(settings, sqlite_engine) as (client, _):
        page = (await client.get("/")).text
    assert "Taking deliveries from the webhook channel on <code>http://127.0.0.1:9</code>" in page
    assert "/chan" not in page, "the channel's address is a capability: only its host is shown"
    assert "smee.io/new" not in page


async def test_registration_through_a_channel_uses_its_url_as_the_webhook(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    async with running(settings_for(tmp_path), sqlite_engine) as (client, _):
        page = (await client.get("/")).text
    assert "GitHub cannot reach <code>http://localhost</code>" in page
    assert "Register GitHub App anyway" in page
    _, _, manifest = register_form(page)
    assert manifest["hook_attributes"]["url"] == "http://localhost/webhooks/github"

    with_channel = settings_for(tmp_path, webhook_proxy_url=CHANNEL)
    async with running(with_channel, sqlite_engine) as (client, _):
        page = (await client.get("/")).text
    assert "GitHub cannot reach" not in page
    assert "its webhook pointing at the webhook channel" in page
    _, _, manifest = register_form(page)
    assert manifest["hook_attributes"] == {"url": CHANNEL, "active": True}
    assert manifest["redirect_url"] == "http://localhost/setup/callback"


async def test_an_app_registered_through_a_channel_is_checked_against_the_channels_url(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    """The callback compares the new App's webhook URL with the channel's, not BASE's."""
    fake = FakeGitHub()
    with serve(fake) as url:
        settings = settings_for(tmp_path, github_api_url=url, webhook_proxy_url=CHANNEL)
        async with running(settings, sqlite_engine) as (client, _):
            _, state, manifest = register_form((await client.get("/")).text)
            code = manifest_code(fake, manifest)
            done = await client.get("/setup/callback", params={"code": code, "state": state})
    assert done.status_code == 200, done.text
    assert "Restart backend-review" in done.text
    assert (settings.data_dir / "github-app" / "app.json").exists()
    assert fake.errors == []


async def test_the_status_link_is_printed_at_start_up_and_opens_the_details(
    tmp_path: Path,
    sqlite_engine: AsyncEngine,
    fake: FakeGitHub,
    github_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.add_repo("acme/payments")
    settings = configured(tmp_path, github_url, fake.private_key_pem)
    caplog.set_level("WARNING", logger="app.web.setup_gate")
    async with home(settings, sqlite_engine) as (client, app):
        token = app.state.setup_gate.status_token
        [line] = [r.getMessage() for r in caplog.records if "/?token=" in r.getMessage()]
        assert line.endswith(f"/?token={token} (good until the server restarts)")
        assert "acme/payments" not in (await client.get("/")).text
        link = line.split(" opens ")[1].split(" ")[0]
        opened = await client.get(link.split("8000", 1)[1], follow_redirects=True)
        assert "acme/payments" in opened.text
