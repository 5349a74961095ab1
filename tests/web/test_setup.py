"""One-click registration: the form on /, GitHub's redirect to /setup/callback, the saved App.

The browser's trip through GitHub's page is played by `manifest_code` (tests/fakes/
github_manifest.py): it takes the manifest our form carries and gives the code GitHub would
redirect with. The exchange goes over real HTTP to the fake GitHub (`serve`).
"""

from __future__ import annotations

import json
import logging
import socket
import stat
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.github import GitHubApp
from app.github import manifest_flow as flow
from app.runtime import github_credentials
from app.settings import REGISTERED_APP_FILE, REGISTERED_KEY_FILE, Settings
from app.store.facade import Store
from app.web.app import create_app
from app.web.setup import STATE_COOKIE
from app.web.setup_gate import TOKEN_COOKIE, PendingStates
from tests.fakes.github_manifest import manifest_code, pending_codes
from tests.fakes.github_server import FakeGitHub, serve

MANIFEST_YAML = Path(__file__).parents[2] / "deploy" / "app-manifest.yml"
CONVERSIONS = r"^/app-manifests/"


class Forms(HTMLParser):
    """Each <form> of a page: its method, action and named inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"method": values.get("method"), "action": values.get("action")})
            self.forms[-1]["inputs"] = {}
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1]["inputs"][values["name"]] = values.get("value")


def forms_of(page: str) -> list[dict[str, Any]]:
    parser = Forms()
    parser.feed(page)
    return parser.forms


def register_form(page: str) -> tuple[str, str, dict[str, Any]]:
    """(the URL the form posts to, without the query; its state; the manifest it carries)."""
    posting = [f for f in forms_of(page) if f["method"] == "post"]
    assert len(posting) == 1, "one form posts to GitHub"
    action = urlsplit(posting[0]["action"])
    (state,) = parse_qs(action.query)["state"]
    manifest = json.loads(posting[0]["inputs"]["manifest"])
    return f"{action.scheme}://{action.netloc}{action.path}", state, manifest


def settings_for(tmp_path: Path, **values: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        worker_concurrency=0,
        **values,
    )


@asynccontextmanager
async def running(
    settings: Settings,
    engine: AsyncEngine,
    *,
    base_url: str = "http://localhost",
    with_token: bool = True,
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """The app, and a browser on `base_url` that opened the setup link (unless `with_token`
    is false)."""
    app = create_app(settings, store=Store(engine))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            token = app.state.setup_gate.token
            if with_token and token:
                client.cookies.set(TOKEN_COOKIE, token)
            yield client, app


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def github_url(fake: FakeGitHub) -> Iterator[str]:
    with serve(fake) as url:
        yield url


def app_files(settings: Settings) -> list[Path]:
    return sorted(settings.data_dir.glob("**/*")) if settings.data_dir.exists() else []


def secret_files(settings: Settings) -> list[Path]:
    return [p for p in app_files(settings) if "github-app" in str(p)]


# --- the form ---------------------------------------------------------------------------------


async def test_the_button_only_while_no_app_is_configured(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    async with running(settings_for(tmp_path), sqlite_engine) as (client, _):
        response = await client.get("/")
    assert "Register GitHub App" in response.text
    target, state, _ = register_form(response.text)
    assert target == "https://github.com/settings/apps/new"
    cookie = response.headers["set-cookie"]
    assert f"{STATE_COOKIE}={state}" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie, "the page was served over http"

    configured = settings_for(
        tmp_path,
        github_app_id=1,
        github_private_key="-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----",
        github_webhook_secret="s3cret-value",
    )
    async with running(configured, sqlite_engine) as (client, _):
        response = await client.get("/")
    # A key that is not one: configured, but not connected (tests/web/test_home.py).
    assert "Not connected to GitHub" in response.text
    assert "Register GitHub App" not in response.text
    assert forms_of(response.text) == []
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("api_url", "org", "target"),
    [
        ("https://api.github.com", "", "https://github.com/settings/apps/new"),
        ("https://api.github.com", "acme", "https://github.com/organizations/acme/settings/apps/new"),
        ("https://ghe.example.com/api/v3", "", "https://ghe.example.com/settings/apps/new"),
        (
            "https://ghe.example.com:8443/api/v3/",
            "platform-team",
            "https://ghe.example.com:8443/organizations/platform-team/settings/apps/new",
        ),
        ("https://api.octo.ghe.com", "", "https://octo.ghe.com/settings/apps/new"),
        # Not an organization name: the personal form, and a notice.
        ("https://api.github.com", "../evil?x=", "https://github.com/settings/apps/new"),
    ],
)  # fmt: skip
async def test_the_form_posts_to_the_right_github(
    tmp_path: Path, sqlite_engine: AsyncEngine, api_url: str, org: str, target: str
) -> None:
    settings = settings_for(tmp_path, github_api_url=api_url)
    async with running(settings, sqlite_engine) as (client, _):
        page = (await client.get("/", params={"org": org} if org else None)).text
    assert register_form(page)[0] == target
    assert ("is not an organization name" in page) == (org == "../evil?x=")


async def test_the_manifest_is_ours_with_this_servers_urls(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    async with running(settings_for(tmp_path), sqlite_engine) as (client, app):
        _, _, manifest = register_form((await client.get("/")).text)
        assert app.url_path_for("receive") == "/webhooks/github"
    shipped = yaml.safe_load(MANIFEST_YAML.read_text(encoding="utf-8"))
    assert manifest["default_permissions"] == shipped["default_permissions"]
    assert manifest["default_events"] == shipped["default_events"]
    assert manifest["hook_attributes"] == {
        "url": "http://localhost/webhooks/github",
        "active": True,
    }
    assert manifest["redirect_url"] == "http://localhost/setup/callback"
    assert manifest["url"] == "http://localhost/"
    # Everything but the URLs is the YAML's, so the YAML stays the one to read and edit.
    urls = ("url", "hook_attributes", "redirect_url")
    assert {k: v for k, v in manifest.items() if k not in urls} == {
        k: v for k, v in shipped.items() if k not in urls
    }


async def test_the_public_url_setting_wins_over_the_request(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    settings = settings_for(tmp_path, public_url="https://review.example.com/")
    async with running(settings, sqlite_engine, base_url="https://review.example.com") as (
        client,
        _,
    ):
        # A forwarded host is not trusted: the setting decides.
        response = await client.get("/", headers={"X-Forwarded-Host": "evil.example"})
    _, _, manifest = register_form(response.text)
    assert manifest["hook_attributes"]["url"] == "https://review.example.com/webhooks/github"
    assert manifest["redirect_url"] == "https://review.example.com/setup/callback"
    assert "evil.example" not in response.text
    assert "Secure" in response.headers["set-cookie"]
    assert "GitHub cannot reach" not in response.text


async def test_an_address_github_cannot_reach_is_pointed_out(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    settings = settings_for(tmp_path, public_url="http://127.0.0.1:8000")
    async with running(settings, sqlite_engine, base_url="http://127.0.0.1:8000") as (client, _):
        page = (await client.get("/")).text
    assert "GitHub cannot reach <code>http://127.0.0.1:8000</code>" in page
    assert "BACKEND_REVIEW_PUBLIC_URL" in page


CHANNEL = "https://smee.io/Xq3mWn8pZkLc2"


def by_hand(page: str) -> str:
    """The page's "Or configure it by hand" section."""
    return page.split("<h2>Or configure it by hand</h2>", 1)[1]


async def test_the_channel_offer_says_how_to_restart_this_server_and_where_to_go_next(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    async with running(settings_for(tmp_path), sqlite_engine) as (client, _):
        plain = (await client.get("/")).text
    moved = settings_for(tmp_path, host="0.0.0.0", port=9000)  # noqa: S104 - a setting's value
    async with running(moved, sqlite_engine) as (client, _):
        elsewhere = (await client.get("/")).text
    # Only what differs from the defaults: a restart with the command lands where this one is.
    assert "<code>./scripts/serve --webhook-proxy https://smee.io/…</code>" in plain
    assert (
        "<code>./scripts/serve --webhook-proxy https://smee.io/… --host 0.0.0.0 --port 9000</code>"
    ) in elsewhere
    for page in (plain, elsewhere):
        # A restart makes a new setup token: this page's link is dead, reloading it is a 403.
        assert "open the new link it prints" in page
        assert "reload this page" not in page


async def test_by_hand_on_loopback_says_github_cannot_reach_the_webhook_url(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    settings = settings_for(tmp_path, port=9000)
    async with running(settings, sqlite_engine) as (client, _):
        opened = by_hand((await client.get("/")).text)
    async with running(settings, sqlite_engine, with_token=False) as (client, _):
        bare = by_hand((await client.get("/")).text)  # no channel offer above this one
    for section in (opened, bare):
        assert "GitHub cannot reach <code>http://localhost</code>" in section
        assert "<code>http://localhost/webhooks/github</code> would never be called" in section
        assert "BACKEND_REVIEW_PUBLIC_URL" in section
        assert '<a href="https://smee.io/new">' in section
        assert "<code>./scripts/serve --webhook-proxy https://smee.io/… --port 9000</code>" in (
            section
        )


async def test_by_hand_with_a_channel_gives_the_channels_address_to_the_operator_only(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    settings = settings_for(tmp_path, webhook_proxy_url=CHANNEL)
    async with running(settings, sqlite_engine) as (client, _):
        opened = (await client.get("/")).text
    async with running(settings, sqlite_engine, with_token=False) as (client, _):
        bare = (await client.get("/")).text
    assert f"set it to the channel's address, <code>{CHANNEL}</code>" in by_hand(opened)
    # Its address is enough to read what goes through it: anyone else gets its host.
    assert CHANNEL not in bare
    assert "the channel's address, the address on <code>smee.io</code>" in by_hand(bare)
    for page in (opened, bare):
        assert "/webhooks/github" not in by_hand(page)
        assert "GitHub cannot reach" not in page


async def test_by_hand_on_a_public_address_gives_its_webhook_url(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    settings = settings_for(tmp_path, public_url="https://review.example.com/")
    async with running(settings, sqlite_engine, base_url="https://review.example.com") as (
        client,
        _,
    ):
        section = by_hand((await client.get("/")).text)
    assert "Webhook URL: <code>https://review.example.com/webhooks/github</code>." in section


# --- the callback -----------------------------------------------------------------------------


async def test_registration_saves_the_app_privately_and_asks_for_a_restart(
    tmp_path: Path,
    sqlite_engine: AsyncEngine,
    fake: FakeGitHub,
    github_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = settings_for(tmp_path, github_api_url=github_url)
    async with running(settings, sqlite_engine) as (client, _):
        _, state, manifest = register_form((await client.get("/")).text)
        code = manifest_code(fake, manifest)
        done = await client.get("/setup/callback", params={"code": code, "state": state})
        home = (await client.get("/")).text

    assert done.status_code == 200, done.text
    assert "Restart backend-review" in done.text
    assert f"{fake.app_id}" in done.text
    assert "https://github.com/apps/backend-review/installations/new" in done.text
    assert "A GitHub App was registered" in home
    assert "Register GitHub App" not in home

    (call,) = fake.calls_to("POST", CONVERSIONS)
    assert (call.path, call.auth, call.status) == (f"/app-manifests/{code}/conversions", None, 201)
    assert pending_codes(fake) == set()

    folder = settings.data_dir / "github-app"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in (REGISTERED_APP_FILE, REGISTERED_KEY_FILE):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    assert (folder / REGISTERED_KEY_FILE).read_text() == fake.private_key_pem
    record = json.loads((folder / REGISTERED_APP_FILE).read_text())
    assert (record["id"], record["slug"]) == (fake.app_id, fake.app_slug)
    assert "client_secret" not in record
    assert [p.name for p in settings.data_dir.iterdir() if p.name.startswith(".")] == []

    # The next start reads the App: nothing left to configure, and the redactor knows the secrets.
    restarted = settings_for(tmp_path, github_api_url=github_url)
    assert restarted.missing_github_app() == []
    assert restarted.github_app_id == fake.app_id
    assert restarted.private_key_pem() == fake.private_key_pem
    secret = record["webhook_secret"]
    assert restarted.github_webhook_secret is not None
    assert restarted.github_webhook_secret.get_secret_value() == secret
    assert {fake.private_key_pem, secret} <= set(restarted.secret_values())
    async with GitHubApp(github_credentials(restarted), async_transport=fake.transport()) as github:
        assert await github.bot_login() == "backend-review[bot]"

    key_line = fake.private_key_pem.splitlines()[1]
    for text in (done.text, home, caplog.text):
        assert key_line not in text
        assert secret not in text
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("app"))
    assert "registered GitHub App backend-review" in ours
    assert code not in ours
    assert fake.errors == []


@pytest.mark.parametrize("case", ["forged", "no cookie", "missing", "used twice"])
async def test_a_bad_state_is_refused_without_asking_github(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str, case: str
) -> None:
    settings = settings_for(tmp_path, github_api_url=github_url)
    async with running(settings, sqlite_engine) as (client, _):
        _, state, manifest = register_form((await client.get("/")).text)
        code = manifest_code(fake, manifest)
        params = {"code": code, "state": state}
        if case == "forged":
            params["state"] = "A" * len(state)
        elif case == "missing":
            del params["state"]
        elif case == "no cookie":
            client.cookies.delete(STATE_COOKIE)
        elif case == "used twice":
            fake.fail_next("POST", CONVERSIONS, 502)  # the first try fails at GitHub's end
            first = await client.get("/setup/callback", params=params)
            assert first.status_code == 502
            fake.calls.clear()
        response = await client.get("/setup/callback", params=params)
    assert response.status_code == 400
    assert "not valid here" in response.text
    assert fake.calls_to("POST", CONVERSIONS) == []
    assert code in pending_codes(fake)
    assert secret_files(settings) == []


@pytest.mark.parametrize("kind", ["unknown", "used"])
async def test_an_expired_or_used_code_is_an_error_page_and_nothing_is_saved(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str, kind: str
) -> None:
    settings = settings_for(tmp_path, github_api_url=github_url)
    async with running(settings, sqlite_engine) as (client, _):
        _, state, manifest = register_form((await client.get("/")).text)
        code = "0123456789abcdef0123"
        if kind == "used":
            code = manifest_code(fake, manifest)
            await flow.convert(github_url, code)  # someone was quicker
        response = await client.get("/setup/callback", params={"code": code, "state": state})
    assert response.status_code == 400
    assert "expired (codes last an hour) or was already used" in response.text
    assert "Nothing was saved" in response.text
    assert fake.calls_to("POST", CONVERSIONS)[-1].status == 404
    assert secret_files(settings) == []


@pytest.mark.parametrize("code", [None, "", "../../app/installations", "a b", "x" * 101, "é1"])
async def test_a_malformed_code_is_a_400_and_nothing_reaches_github(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str, code: str | None
) -> None:
    settings = settings_for(tmp_path, github_api_url=github_url)
    async with running(settings, sqlite_engine) as (client, _):
        _, state, _ = register_form((await client.get("/")).text)
        params = {"state": state} if code is None else {"state": state, "code": code}
        response = await client.get("/setup/callback", params=params)
    assert response.status_code == 400
    assert "The address has no code from GitHub" in response.text
    assert "Nothing was sent to GitHub and nothing was saved" in response.text
    assert fake.calls == []
    assert secret_files(settings) == []


def test_codes_shaped_like_githubs_pass_the_check() -> None:
    assert flow.valid_code("0123456789abcdef0123")
    assert flow.valid_code("AbC_d-9" * 10)
    assert not flow.valid_code("a" * 100 + "!")


async def test_github_refusing_the_code_shows_its_message(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    settings = settings_for(tmp_path, github_api_url=github_url)
    body = {"message": "Validation Failed", "errors": ["Name is already in use"]}
    fake.fail_next("POST", CONVERSIONS, 422, body)
    async with running(settings, sqlite_engine) as (client, _):
        _, state, manifest = register_form((await client.get("/")).text)
        code = manifest_code(fake, manifest)
        response = await client.get("/setup/callback", params={"code": code, "state": state})
    assert response.status_code == 400
    assert "GitHub refused the code (422: Validation Failed; Name is already in use)" in (
        response.text
    )
    assert secret_files(settings) == []


async def test_github_out_of_reach_is_an_error_page(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    # A port bound but not listening: the connection is refused at once.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        settings = settings_for(tmp_path, github_api_url=url)
        async with running(settings, sqlite_engine) as (client, _):
            _, state, manifest = register_form((await client.get("/")).text)
            code = manifest_code(fake, manifest)
            response = await client.get("/setup/callback", params={"code": code, "state": state})
    assert response.status_code == 502
    assert f"GitHub at {url}/ could not be reached (ConnectError)" in response.text
    assert code not in response.text
    assert code not in "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("app"))
    assert secret_files(settings) == []


async def test_a_configured_server_refuses_the_callback_without_asking_github(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    settings = settings_for(tmp_path, github_api_url=github_url)
    async with running(settings, sqlite_engine) as (client, _):
        _, state, manifest = register_form((await client.get("/")).text)
        first = await client.get(
            "/setup/callback", params={"code": manifest_code(fake, manifest), "state": state}
        )
        assert first.status_code == 200
        saved = {p: p.read_bytes() for p in secret_files(settings) if p.is_file()}
        fake.calls.clear()
        # Registered, not restarted yet: a second App (another tab, a replay) must not replace it.
        second = manifest_code(fake, manifest)
        response = await client.get("/setup/callback", params={"code": second, "state": state})
    assert response.status_code == 409
    assert {p: p.read_bytes() for p in secret_files(settings) if p.is_file()} == saved
    assert fake.calls == []

    configured = settings_for(tmp_path, github_api_url=github_url)  # reads the saved App
    async with running(configured, sqlite_engine) as (client, _):
        response = await client.get("/setup/callback", params={"code": second, "state": "x"})
    assert response.status_code == 409
    assert "already configured" in response.text
    assert fake.calls == []
    assert second in pending_codes(fake)


async def test_a_data_directory_that_cannot_be_written_says_what_to_do(
    tmp_path: Path, sqlite_engine: AsyncEngine, fake: FakeGitHub, github_url: str
) -> None:
    leftover = tmp_path / "data" / "github-app"
    leftover.mkdir(parents=True)
    (leftover / "notes.txt").write_text("someone's leftovers, not an App")
    settings = settings_for(tmp_path, github_api_url=github_url)
    async with running(settings, sqlite_engine) as (client, _):
        _, state, manifest = register_form((await client.get("/")).text)
        code = manifest_code(fake, manifest)
        response = await client.get("/setup/callback", params={"code": code, "state": state})
    assert response.status_code == 500
    assert "GitHub created an App, but it was not saved here" in response.text
    assert "delete that App on GitHub" in response.text
    assert "Directory not empty" in response.text
    assert sorted(p.name for p in leftover.iterdir()) == ["notes.txt"]
    assert [p.name for p in leftover.parent.iterdir()] == ["github-app"], "no staging left"
    assert fake.private_key_pem.splitlines()[1] not in response.text


# --- pieces -----------------------------------------------------------------------------------


async def test_convert_reads_the_new_app_and_a_code_works_once(
    fake: FakeGitHub, github_url: str
) -> None:
    code = manifest_code(fake, flow.manifest("https://review.example.com"))
    registration = await flow.convert(github_url, code, transport=fake.transport())
    assert (registration.app_id, registration.slug, registration.owner) == (
        fake.app_id,
        "backend-review",
        "acme-platform",
    )
    assert registration.pem == fake.private_key_pem
    assert registration.pem not in repr(registration)
    assert registration.webhook_secret not in repr(registration)
    with pytest.raises(flow.ManifestError) as again:
        await flow.convert(github_url, code, transport=fake.transport())
    assert again.value.status == 404


@pytest.mark.parametrize("code", ["../../app/installations", "a b", "", "x" * 101])
async def test_a_code_that_is_not_githubs_never_reaches_github(fake: FakeGitHub, code: str) -> None:
    with pytest.raises(flow.ManifestError, match="not one GitHub gives"):
        await flow.convert("http://github.test", code, transport=fake.transport())
    assert fake.calls == []


def test_states_are_good_once_for_an_hour_and_bounded() -> None:
    now = [1000.0]
    states = PendingStates(clock=lambda: now[0])
    first, second = states.issue("http://localhost"), states.issue("http://localhost")
    assert first != second
    taken = states.take(first)
    assert taken is not None
    assert taken.base_url == "http://localhost"
    assert states.take(first) is None, "used"
    now[0] += 3601
    assert states.take(second) is None, "expired"
    issued = [states.issue() for _ in range(100)]
    assert states.take(issued[0]) is None, "the oldest made room"
    assert states.take(issued[-1]) is not None
