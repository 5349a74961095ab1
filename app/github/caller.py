"""One GitHub call under our retry policy, with the installation-token refresh on a 401.

githubkit's own retry loop (`auto_retry`) is switched off: it sleeps with `anyio.sleep` (a test
cannot skip the wait), turns a wait of 0 into 60 s, and has no place for the token refresh.
This loop asks `app.github.retry.RetryPolicy` (a githubkit `RetryDecisionFunc`) instead, waits
with the injected `sleep`, and raises a GitHubError for whatever still fails.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import httpx
from githubkit import AppInstallationAuthStrategy, GitHub
from githubkit.auth.app import AppAuth
from githubkit.exception import GitHubException, RequestFailed
from pydantic import ValidationError

from app.github.errors import translate
from app.github.retry import RetryPolicy, unwrap

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


class Caller:
    """Runs one githubkit call under the retry policy; translates what still fails.

    `retry=False` makes a single attempt (a review must never be posted twice). The one repeat
    that is always allowed is after GitHub refused the installation token: nothing was done.
    """

    def __init__(
        self, policy: RetryPolicy, sleep: Sleep, drop_token: TokenDropper | None = None
    ) -> None:
        self._policy = policy
        self._sleep = sleep
        self._drop_token = drop_token

    def with_token_refresh(self, drop_token: TokenDropper) -> Caller:
        return Caller(self._policy, self._sleep, drop_token)

    async def __call__(self, call: Callable[[], Awaitable[T]], *, retry: bool = True) -> T:
        retries = 0
        refreshed = False
        while True:
            try:
                return await call()
            except GitHubException as exc:
                failure = exc
            except (ValidationError, httpx.HTTPError, httpx.InvalidURL) as exc:
                # githubkit validates bodies, and httpx builds the request, outside its wrapping
                raise translate(exc) from None
            if self._drop_token is not None and not refreshed and _token_refused(failure):
                refreshed = True
                log.warning("GitHub refused the installation token; getting a new one")
                await self._drop_token()
                continue
            decision = self._policy(failure, retries) if retry else None
            if decision is None or not decision.do_retry:
                raise translate(failure) from None
            wait = (decision.retry_after or timedelta()).total_seconds()
            log.warning("%s; trying again in %.0f s", translate(failure).reason, wait)
            await self._sleep(wait)
            retries += 1


class TokenDropper:
    """Forgets an installation's cached token, so the next call exchanges a new one."""

    def __init__(self, gh: GitHub[AppInstallationAuthStrategy]) -> None:
        self._gh = gh

    async def __call__(self) -> None:
        flow = self._gh.auth.get_auth_flow(self._gh)
        if not isinstance(flow, AppAuth):  # pragma: no cover - githubkit changed its auth flow
            return
        cache = await self._gh.config.cache_strategy.get_async_cache_storage()
        # githubkit's own (private) key, so we drop exactly the entry it reads; the test of the
        # 401 refresh fails if that ever changes. Its caches have no delete: an empty value
        # reads as "no token".
        await cache.aset(flow._get_installation_cache_key(), "", timedelta(seconds=1))


def _token_refused(exc: GitHubException) -> bool:
    failure = unwrap(exc)
    if not isinstance(failure, RequestFailed) or failure.response.status_code != 401:
        return False
    authorization = str(failure.request.headers.get("authorization", ""))
    return authorization.lower().startswith("token ")
