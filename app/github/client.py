"""The GitHub App: authentication, one connection pool, and our retry policy around each call.

    async with GitHubApp(AppCredentials(app_id, private_key_pem, api_url)) as github:
        login = await github.bot_login()                  # "<app slug>[bot]"
        repo = github.repo(installation_id, "acme/payments")
        pr = await repo.pull(7)

Authentication is githubkit's `AppAuthStrategy`: a JWT signed with the App's key (cached 8 min)
for `/app` routes, an installation token (cached until a minute before it expires) for the rest.
The cache is this instance's own `MemCacheStrategy`, never githubkit's process-global one. When
GitHub refuses an installation token (401: revoked, or expired early), the token is dropped and
the call made once more with a fresh one; a second 401 is a GitHubError.

Connections: githubkit opens an httpx client per call unless one was entered in the same task,
which a worker running jobs in many tasks cannot arrange. Every githubkit client we make shares
one transport (one connection pool), closed when this object is.

Every call has a timeout, no HTTP cache (hishel's has no expiry) and the retry policy of
`app.github.retry`; whatever still fails leaves as a GitHubError (`app.github.errors`).
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy

from app import __version__
from app.errors import ConfigError
from app.github.caller import Caller, Sleep, TokenDropper
from app.github.parse import read
from app.github.repo import RepoClient
from app.github.retry import RetryPolicy, normalise_retry_after
from app.metrics import Metrics

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = f"backend-review/{__version__}"


@dataclass(frozen=True, slots=True)
class AppCredentials:
    """What acting as the App takes; the composition root builds it from the settings
    (`app.runtime.github_credentials`)."""

    app_id: int
    private_key_pem: str = field(repr=False)
    api_url: str = "https://api.github.com"
    key_setting: str = "GITHUB_PRIVATE_KEY"  # the setting an unusable key is reported as


class GitHubApp:
    def __init__(
        self,
        credentials: AppCredentials,
        *,
        async_transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        policy: RetryPolicy | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        pem = credentials.private_key_pem
        _check_key(pem, credentials.key_setting)
        base_url = credentials.api_url
        self._transport = async_transport or _pool_for(httpx.URL(base_url))
        self._cache = MemCacheStrategy()
        self._caller = Caller(policy or RetryPolicy(), sleep)
        self._gh = GitHub(
            AppAuthStrategy(credentials.app_id, pem),
            base_url=base_url,
            user_agent=USER_AGENT,
            timeout=timeout,
            async_transport=_SharedTransport(self._transport),
            async_event_hooks={"response": _response_hooks(metrics)},
            cache_strategy=self._cache,
            http_cache=False,
            auto_retry=False,  # our loop applies the policy, see Caller
        )
        self._installations: dict[int, GitHub[AppInstallationAuthStrategy]] = {}
        self._bot_login: str | None = None
        self._identity_lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def bot_login(self) -> str:
        """The App's user on GitHub, "<slug>[bot]", as its comments are signed: asked once per
        process (concurrent first callers share the one call), then kept."""
        async with self._identity_lock:
            if self._bot_login is None:
                response = await self._caller(self._gh.rest.apps.async_get_authenticated)
                slug = read("the App", lambda data: str(data["slug"]), response)
                self._bot_login = f"{slug}[bot]"
        return self._bot_login

    def app_client(self) -> tuple[GitHub[AppAuthStrategy], Caller]:
        """githubkit's client authenticated as the App (JWT) and the call loop with our retry
        policy: for the App's own endpoints (app/github/deliveries.py)."""
        return self._gh, self._caller

    def repo(self, installation_id: int, full_name: str) -> RepoClient:
        owner, sep, name = full_name.partition("/")
        if not (sep and owner and name) or "/" in name:
            raise ValueError(f"expected 'owner/name', got {full_name!r}")
        gh = self._installations.get(installation_id)
        if gh is None:
            gh = self._gh.with_auth(self._gh.auth.as_installation(installation_id))
            self._installations[installation_id] = gh
        caller = self._caller.with_token_refresh(TokenDropper(gh))
        return RepoClient(gh, owner, name, caller)


ResponseHook = Callable[[httpx.Response], Awaitable[None]]


def _response_hooks(metrics: Metrics | None) -> list[ResponseHook]:
    hooks: list[ResponseHook] = [normalise_retry_after]
    if metrics is not None:

        async def count(response: httpx.Response) -> None:
            metrics.count_github_response(
                method=response.request.method,
                status=response.status_code,
                resource=response.headers.get("x-ratelimit-resource"),
                remaining=response.headers.get("x-ratelimit-remaining"),
            )

        hooks.append(count)
    return hooks


class _SharedTransport(httpx.AsyncBaseTransport):
    """The pool every githubkit client uses; they close their client after each call, not this."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        pass  # GitHubApp.aclose closes the pool


def _pool_for(api_url: httpx.URL) -> httpx.AsyncHTTPTransport:
    """Our pool, through the proxy the environment names for the API's host.

    httpx reads HTTPS_PROXY / NO_PROXY only for a client without a transport of its own; ours
    has one, so we read them here the same way (a GHES behind a corporate proxy).
    """
    proxy = None
    if not urllib.request.proxy_bypass(api_url.host):
        proxies = urllib.request.getproxies()
        proxy = proxies.get(api_url.scheme) or proxies.get("all")
    return httpx.AsyncHTTPTransport(proxy=proxy, retries=0)


def check_key(credentials: AppCredentials) -> None:
    """ConfigError naming the setting when the App's key cannot sign its JWT."""
    _check_key(credentials.private_key_pem, credentials.key_setting)


def _check_key(pem: str, setting: str) -> None:
    """Refuse a key the JWT cannot be signed with now, rather than on the first call."""
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(setting, "is not a readable, unencrypted PEM private key") from None
    if not isinstance(key, RSAPrivateKey):
        raise ConfigError(setting, "is not an RSA key (GitHub Apps sign with RS256)")
