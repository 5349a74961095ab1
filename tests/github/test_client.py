"""The App client against GitHub faked at the wire: auth, token cache, retries, errors, secrets."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from app.errors import ConfigError
from app.github.client import GitHubApp
from app.github.retry import MAX_WAIT_SECONDS, retry_after_seconds
from app.github.types import GitHubError
from app.runtime import github_credentials
from app.settings import Settings
from tests.github.respx_github import (
    API,
    APP_ID,
    INSTALLATION,
    REPO,
    Tokens,
    error,
    github,
    key_pair,
    make_settings,
    pull_json,
)

PULL = f"/repos/{REPO}/pulls/7"


def ok_pull() -> httpx.Response:
    return httpx.Response(200, json=pull_json())


# -- authentication -----------------------------------------------------------------------


async def test_installation_token_is_exchanged_with_a_jwt_of_the_app_key_and_then_used() -> None:
    async with github() as (router, app, tokens, _):
        route = router.get(PULL).mock(return_value=ok_pull())

        pr = await app.repo(INSTALLATION, REPO).pull(7)

    assert pr.number == 7
    assert len(tokens.issued) == 1  # the JWT verified against the public key (Tokens asserts)
    assert route.calls.last.request.headers["authorization"] == f"token {tokens.last}"
    exchange = router.routes["token"].calls.last.request
    assert exchange.headers["user-agent"].startswith("backend-review/")


async def test_token_is_cached_across_calls_and_repo_clients() -> None:
    async with github() as (router, app, tokens, _):
        router.get(PULL).mock(return_value=ok_pull())

        await app.repo(INSTALLATION, REPO).pull(7)
        await app.repo(INSTALLATION, REPO).pull(7)
        await app.repo(INSTALLATION, REPO).pull(7)

    assert len(tokens.issued) == 1


async def test_token_cache_belongs_to_the_instance_not_the_process() -> None:
    # Through the default transport this time: respx.mock intercepts it below httpx.
    tokens = Tokens()
    async with respx.mock(base_url=API, assert_all_called=False) as router:
        router.post(f"/app/installations/{INSTALLATION}/access_tokens").mock(side_effect=tokens)
        router.get(PULL).mock(return_value=ok_pull())
        async with (
            GitHubApp(github_credentials(make_settings())) as one,
            GitHubApp(github_credentials(make_settings())) as two,
        ):
            await one.repo(INSTALLATION, REPO).pull(7)
            await two.repo(INSTALLATION, REPO).pull(7)
            await one.repo(INSTALLATION, REPO).pull(7)

    assert len(tokens.issued) == 2


async def test_refused_token_is_dropped_and_the_call_made_once_more() -> None:
    async with github() as (router, app, tokens, sleeps):
        route = router.get(PULL).mock(side_effect=[error(401, "Bad credentials"), ok_pull()])

        pr = await app.repo(INSTALLATION, REPO).pull(7)

    assert pr.number == 7
    assert len(tokens.issued) == 2
    first, second = (call.request.headers["authorization"] for call in route.calls)
    assert first == f"token {tokens.issued[0]}"
    assert second == f"token {tokens.issued[1]}"
    assert sleeps.waits == []


async def test_token_refused_twice_is_a_401_github_error() -> None:
    async with github() as (router, app, tokens, _):
        route = router.get(PULL).mock(return_value=error(401, "Bad credentials"))

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).pull(7)

    assert caught.value.status == 401
    assert not caught.value.transient
    assert route.call_count == 2
    assert len(tokens.issued) == 2


async def test_jwt_refused_on_the_token_exchange_is_not_transient_and_names_the_settings() -> None:
    async with github() as (router, app, _, sleeps):
        router.routes["token"].mock(
            return_value=error(401, "'Expiration time' claim ('exp') is too far in the future")
        )
        router.get(PULL).mock(return_value=ok_pull())

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).pull(7)

    assert caught.value.status == 401
    assert not caught.value.transient
    assert "GITHUB_APP_ID" in caught.value.reason
    assert sleeps.waits == []


async def test_uninstalled_app_is_a_404_not_transient() -> None:
    async with github() as (router, app, _, _):
        router.routes["token"].mock(return_value=error(404, "Not Found"))

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).pull(7)

    assert caught.value.status == 404
    assert not caught.value.transient
    assert "installation token" in caught.value.reason


async def test_token_exchange_5xx_is_retried_like_a_read() -> None:
    async with github() as (router, app, tokens, sleeps):
        real = router.routes["token"].side_effect
        router.routes["token"].mock(side_effect=[error(502, "Server Error"), real])
        router.get(PULL).mock(return_value=ok_pull())

        await app.repo(INSTALLATION, REPO).pull(7)

    assert len(tokens.issued) == 1
    assert sleeps.waits == [1.0]


async def test_bot_login_comes_from_get_app_with_the_jwt_and_is_cached() -> None:
    async with github() as (router, app, tokens, _):
        route = router.get("/app").mock(
            return_value=httpx.Response(
                200, json={"id": APP_ID, "slug": "backend-review", "name": "backend-review"}
            )
        )

        assert await app.bot_login() == "backend-review[bot]"
        assert await app.bot_login() == "backend-review[bot]"

    assert route.call_count == 1
    scheme, _, token = route.calls.last.request.headers["authorization"].partition(" ")
    assert scheme == "Bearer"
    assert token.count(".") == 2  # a JWT, not an installation token
    assert tokens.issued == []


async def test_ghes_base_url_reaches_the_api_v3_paths() -> None:
    base = "https://ghe.example/api/v3"
    async with github(base) as (router, app, tokens, _):
        route = router.get(PULL).mock(return_value=ok_pull())
        router.get("/app").mock(return_value=httpx.Response(200, json={"slug": "br"}))

        await app.repo(INSTALLATION, REPO).pull(7)
        assert await app.bot_login() == "br[bot]"

    assert str(route.calls.last.request.url) == f"{base}{PULL}"
    exchange = router.routes["token"].calls.last.request
    assert str(exchange.url) == f"{base}/app/installations/{INSTALLATION}/access_tokens"
    assert len(tokens.issued) == 1


def test_missing_or_bad_key_is_a_config_error_before_any_call() -> None:
    pem, _ = key_pair()
    no_id = Settings(_env_file=None, github_private_key=pem)  # type: ignore[call-arg]
    with pytest.raises(ConfigError) as caught:
        github_credentials(no_id)
    assert caught.value.setting == "GITHUB_APP_ID"

    body = pem.splitlines()
    broken = "\n".join([body[0], *body[1:4], body[-1]])  # a PEM frame around half a key
    bad = Settings(_env_file=None, github_app_id=APP_ID, github_private_key=broken)  # type: ignore[call-arg]
    with pytest.raises(ConfigError) as caught:
        GitHubApp(github_credentials(bad))
    assert caught.value.setting == "GITHUB_PRIVATE_KEY"
    assert body[2] not in str(caught.value)


def test_repo_wants_owner_slash_name() -> None:
    app = GitHubApp(github_credentials(make_settings()))
    for name in ("payments", "acme/", "/payments", "acme/payments/x"):
        with pytest.raises(ValueError, match="owner/name"):
            app.repo(INSTALLATION, name)


# -- rate limits ----------------------------------------------------------------------------


async def test_secondary_rate_limit_within_the_cap_is_waited_out_then_retried() -> None:
    async with github() as (router, app, _, sleeps):
        limited = error(
            403,
            "You have exceeded a secondary rate limit. Please wait a few minutes.",
            headers={"retry-after": "7"},
        )
        route = router.get(PULL).mock(side_effect=[limited, ok_pull()])

        await app.repo(INSTALLATION, REPO).pull(7)

    assert route.call_count == 2
    assert sleeps.waits == [7.0]


async def test_rate_limit_wait_over_the_cap_is_a_transient_error_without_sleeping() -> None:
    async with github() as (router, app, _, sleeps):
        route = router.get(PULL).mock(
            return_value=error(
                403, "You have exceeded a secondary rate limit.", headers={"retry-after": "3600"}
            )
        )

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).pull(7)

    assert caught.value.transient
    assert caught.value.retry_after == 3600
    assert route.call_count == 1
    assert sleeps.waits == []


async def test_primary_rate_limit_until_the_reset_in_an_hour_is_requeued_not_slept() -> None:
    reset = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    async with github() as (router, app, _, sleeps):
        router.get(PULL).mock(
            return_value=error(
                403,
                "API rate limit exceeded for installation ID 42.",
                headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
            )
        )

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).pull(7)

    assert caught.value.transient
    assert caught.value.status == 403
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > MAX_WAIT_SECONDS
    assert sleeps.waits == []


async def test_secondary_rate_limit_without_a_wait_is_transient_after_a_minute() -> None:
    async with github() as (router, app, _, sleeps):
        route = router.get(PULL).mock(
            return_value=error(403, "You have exceeded a secondary rate limit.")
        )

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).pull(7)

    assert caught.value.transient
    assert caught.value.retry_after == 60
    assert route.call_count == 1
    assert sleeps.waits == []


async def test_429_with_retry_after_is_retried() -> None:
    async with github() as (router, app, _, sleeps):
        route = router.get(PULL).mock(
            side_effect=[error(429, "Too Many Requests", headers={"retry-after": "2"}), ok_pull()]
        )

        await app.repo(INSTALLATION, REPO).pull(7)

    assert route.call_count == 2
    assert sleeps.waits == [2.0]


async def test_429_without_retry_after_is_transient() -> None:
    async with github() as (router, app, _, _):
        router.get(PULL).mock(return_value=error(429, "Too Many Requests"))

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).pull(7)

    assert caught.value.transient
    assert caught.value.status == 429


async def test_retry_after_as_an_http_date_is_read_not_crashed_on() -> None:
    soon = datetime.now(UTC) + timedelta(seconds=12)
    async with github() as (router, app, _, sleeps):
        limited = error(
            429, "Too Many Requests", headers={"retry-after": format_datetime(soon, usegmt=True)}
        )
        route = router.get(PULL).mock(side_effect=[limited, ok_pull()])

        await app.repo(INSTALLATION, REPO).pull(7)

    assert route.call_count == 2
    [wait] = sleeps.waits
    assert 10 <= wait <= 13


async def test_retry_after_zero_or_in_the_past_waits_a_second_not_a_minute() -> None:
    past = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
    async with github() as (router, app, _, sleeps):
        router.get(PULL).mock(
            side_effect=[
                error(429, "slow down", headers={"retry-after": "0"}),
                error(429, "slow down", headers={"retry-after": past}),
                ok_pull(),
            ]
        )

        await app.repo(INSTALLATION, REPO).pull(7)

    assert sleeps.waits == [1.0, 1.0]


def test_retry_after_values() -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("30", now=now) == 30
    assert retry_after_seconds(" 1.2 ", now=now) == 2
    assert retry_after_seconds("-5", now=now) == 0
    assert retry_after_seconds("Sun, 22 Nov 2026 12:00:45 GMT", now=now) == 45
    assert retry_after_seconds("Sun, 22 Nov 2026 11:00:00 GMT", now=now) == 0
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds("inf", now=now) is None


# -- server errors, timeouts, connections --------------------------------------------------


async def test_5xx_on_a_get_is_retried_then_succeeds() -> None:
    async with github() as (router, app, _, sleeps):
        route = router.get(PULL).mock(
            side_effect=[error(500, "Server Error"), httpx.Response(502), ok_pull()]
        )

        await app.repo(INSTALLATION, REPO).pull(7)

    assert route.call_count == 3
    assert sleeps.waits == [1.0, 2.0]


async def test_5xx_on_a_get_that_persists_is_given_up_as_transient() -> None:
    async with github() as (router, app, _, sleeps):
        route = router.get(PULL).mock(return_value=httpx.Response(502, text="<html>bad gateway"))

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).pull(7)

    assert caught.value.status == 502
    assert caught.value.transient
    assert route.call_count == 3
    assert len(sleeps.waits) == 2


async def test_5xx_on_a_post_is_not_repeated() -> None:
    async with github() as (router, app, _, sleeps):
        route = router.post(f"/repos/{REPO}/issues/7/comments").mock(
            return_value=error(500, "Server Error")
        )

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).create_issue_comment(7, "hello")

    assert caught.value.status == 500
    assert caught.value.transient
    assert route.call_count == 1
    assert sleeps.waits == []


async def test_timeout_on_a_get_is_retried_then_transient() -> None:
    async with github() as (router, app, _, sleeps):
        route = router.get(PULL).mock(side_effect=httpx.ReadTimeout("read timed out"))

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).pull(7)

    assert caught.value.transient
    assert caught.value.status is None
    assert "in time" in caught.value.reason
    assert route.call_count == 3
    assert len(sleeps.waits) == 2


async def test_timeout_on_a_post_is_not_repeated() -> None:
    async with github() as (router, app, _, _):
        route = router.post(f"/repos/{REPO}/issues/7/comments").mock(
            side_effect=httpx.ReadTimeout("read timed out")
        )

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).create_issue_comment(7, "hello")

    assert caught.value.transient
    assert route.call_count == 1


async def test_connection_never_made_is_retried_even_for_a_post() -> None:
    async with github() as (router, app, _, sleeps):
        route = router.post(f"/repos/{REPO}/issues/7/comments").mock(
            side_effect=[
                httpx.ConnectError("connection refused"),
                httpx.Response(201, json={"id": 99, "body": "hello"}),
            ]
        )

        assert await app.repo(INSTALLATION, REPO).create_issue_comment(7, "hello") == 99

    assert route.call_count == 2
    assert sleeps.waits == [1.0]


async def test_every_call_has_a_timeout() -> None:
    async with github(timeout=httpx.Timeout(4.0)) as (router, app, _, _):
        route = router.get(PULL).mock(return_value=ok_pull())
        await app.repo(INSTALLATION, REPO).pull(7)

    timeouts = route.calls.last.request.extensions["timeout"]
    assert timeouts == {"connect": 4.0, "read": 4.0, "write": 4.0, "pool": 4.0}


async def test_404_is_not_transient_and_not_retried() -> None:
    async with github() as (router, app, _, sleeps):
        route = router.get(PULL).mock(return_value=error(404, "Not Found"))

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).pull(7)

    assert caught.value.status == 404
    assert not caught.value.transient
    assert "Not Found" in caught.value.reason
    assert route.call_count == 1
    assert sleeps.waits == []


async def test_malformed_answer_is_a_github_error() -> None:
    async with github() as (router, app, _, _):
        router.get(PULL).mock(return_value=httpx.Response(200, json={"number": 7}))

        with pytest.raises(GitHubError, match="unexpected answer"):
            await app.repo(INSTALLATION, REPO).pull(7)


# -- connections ------------------------------------------------------------------------------


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.requests = 0
        self.closed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if request.url.path.endswith("/access_tokens"):
            return Tokens()(request)
        return httpx.Response(200, json=pull_json(), request=request)

    async def aclose(self) -> None:
        self.closed += 1


async def test_one_transport_serves_every_call_and_is_closed_with_the_app() -> None:
    transport = CountingTransport()
    async with GitHubApp(github_credentials(make_settings()), async_transport=transport) as app:
        for _ in range(3):
            await app.repo(INSTALLATION, REPO).pull(7)
        assert transport.closed == 0  # githubkit closes its per-call client, not our pool
    assert transport.requests == 4  # one token exchange, three reads
    assert transport.closed == 1


# -- secrets --------------------------------------------------------------------------------


async def test_no_key_jwt_or_token_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    pem, _ = key_pair()
    key_lines = [line for line in pem.splitlines() if "PRIVATE KEY" not in line]
    failures: list[GitHubError] = []
    async with github() as (router, app, tokens, _):
        # GitHub echoing the token back must not carry it into our reason either.
        router.get(PULL).mock(
            side_effect=lambda request: error(
                401, f"Bad credentials {request.headers['authorization']}"
            )
        )
        router.get("/app", name="app").mock(side_effect=httpx.ConnectTimeout("timed out"))
        router.get(f"/repos/{REPO}/pulls/8").mock(
            side_effect=lambda request: error(
                500, f"boom {request.headers['authorization']}", headers={"x-debug": "1"}
            )
        )
        repo = app.repo(INSTALLATION, REPO)
        for call in (repo.pull(7), app.bot_login(), repo.pull(8)):
            with pytest.raises(GitHubError) as caught:
                await call
            failures.append(caught.value)
        app_calls = router.routes["app"].calls
        jwts = [*tokens.jwts, *(c.request.headers["authorization"].split()[-1] for c in app_calls)]

    secrets = [*tokens.issued, *jwts, *key_lines]
    assert tokens.issued
    assert len(jwts) == len(tokens.jwts) + 3  # /app: three attempts, each with the App's JWT
    texts = [str(f) for f in failures] + [repr(f) for f in failures] + [caplog.text]
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert failures[0].status == 401
    assert failures[2].status == 500


@pytest.mark.parametrize(
    ("no_proxy", "proxied"), [("", True), ("internal.example,api.github.com", False)]
)
def test_proxy_from_the_environment_is_used_unless_no_proxy_names_the_host(
    monkeypatch: pytest.MonkeyPatch, no_proxy: str, proxied: bool
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)

    app = GitHubApp(github_credentials(make_settings()))

    pool = type(app._transport._pool).__name__  # type: ignore[attr-defined]
    assert (pool == "AsyncHTTPProxy") is proxied
