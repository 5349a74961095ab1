"""When a failed GitHub call is tried again, and how long we wait first.

`RetryPolicy` is a githubkit `RetryDecisionFunc` (`(exception, retries so far) -> RetryOption`).
`app.github.client` applies it in its own small loop rather than through githubkit's
`auto_retry`, because githubkit sleeps with `anyio.sleep` (tests could not skip the wait), turns a
wait of 0 into 60 s, and has no place for the installation-token refresh on a 401.

    what failed                                   retried?                 wait
    403/429 rate limit, wait known and <= cap     yes, any method          the wait GitHub asks for
    403/429 rate limit, wait > cap or unknown     no: transient error      (the job is requeued)
    5xx, timeout, broken connection               GET/HEAD and GraphQL     1 s, then 2 s
                                                  queries only
    connection never made (connect error/timeout) yes, any method          1 s, then 2 s
    anything else (401/403/404/406/422, ...)      no

A POST or PATCH that reached GitHub is never repeated here: it may have succeeded (a review
posted twice). The installation-token exchange is a POST but creates nothing anyone sees, and a
GraphQL query (its body's operation is `query`, not `mutation`) only reads: both are retried
like a GET.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from math import ceil

import httpx
from githubkit.exception import (
    GitHubException,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
)
from githubkit.retry import RetryOption

MAX_WAIT_SECONDS = 30.0  # beyond this the job is requeued rather than holding a worker
MAX_RETRIES = 2  # so at most three attempts
BACKOFF_SECONDS = (1.0, 2.0)
MIN_RATE_LIMIT_WAIT = 1.0  # "Retry-After: 0" still means "not this instant"
SECONDARY_LIMIT_WAIT = 60.0  # GitHub: wait at least a minute when it gives no time

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Failures that happen before a byte of the request is sent: repeating them cannot duplicate.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class RetryPolicy:
    """Our retry decision, in githubkit's `RetryDecisionFunc` shape."""

    def __init__(
        self, *, max_wait: float = MAX_WAIT_SECONDS, max_retries: int = MAX_RETRIES
    ) -> None:
        self.max_wait = max_wait
        self.max_retries = max_retries

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        if retry_count >= self.max_retries:
            return RetryOption(False)
        failure = unwrap(exc)
        backoff = timedelta(seconds=BACKOFF_SECONDS[min(retry_count, len(BACKOFF_SECONDS) - 1)])
        if isinstance(failure, RateLimitExceeded):
            wait = max(failure.retry_after.total_seconds(), MIN_RATE_LIMIT_WAIT)
            if wait <= self.max_wait:
                return RetryOption(True, timedelta(seconds=wait))
            return RetryOption(False)
        if isinstance(failure, RequestFailed):
            if failure.response.status_code >= 500 and _repeatable(failure.request):
                return RetryOption(True, backoff)
            return RetryOption(False)
        transport = transport_error(failure)
        if transport is not None and (
            isinstance(transport, _NOT_SENT) or _repeatable(request_of(failure))
        ):
            return RetryOption(True, backoff)
        return RetryOption(False)


def transport_error(exc: GitHubException) -> httpx.TransportError | None:
    """The httpx error (timeout, refused connection, ...) a githubkit RequestError carries."""
    if isinstance(exc, RequestError) and isinstance(exc.exc, httpx.TransportError):
        return exc.exc
    return None


def unwrap(exc: GitHubException) -> GitHubException:
    """The real failure: githubkit wraps one raised inside its auth flow (the token exchange)."""
    while type(exc) is RequestError and isinstance(exc.exc, GitHubException) and exc.exc is not exc:
        exc = exc.exc
    return exc


def request_of(exc: GitHubException) -> httpx.Request | None:
    if isinstance(exc, RequestFailed):
        return exc.request
    if isinstance(exc, RequestError) and isinstance(exc.exc, httpx.RequestError):
        try:
            return exc.exc.request
        except RuntimeError:  # httpx raises when the error was made without a request
            return None
    return None


def is_token_exchange(request: httpx.Request | None) -> bool:
    return (
        request is not None
        and request.method == "POST"
        and request.url.path.endswith("/access_tokens")
        and "/app/installations/" in request.url.path
    )


def is_graphql_query(request: httpx.Request | None) -> bool:
    """A POST to the GraphQL endpoint whose operation is a query (a read), not a mutation."""
    if request is None or request.method != "POST" or not request.url.path.endswith("graphql"):
        return False
    try:
        body = json.loads(request.content)
    except (ValueError, httpx.RequestNotRead):
        return False
    query = body.get("query") if isinstance(body, dict) else None
    if not isinstance(query, str):
        return False
    operation = query.lstrip()[:9]
    return operation.startswith("{") or operation.startswith("query")


def _repeatable(request: httpx.Request | None) -> bool:
    if request is None:
        return False
    return (
        request.method in _SAFE_METHODS or is_token_exchange(request) or is_graphql_query(request)
    )


async def normalise_retry_after(response: httpx.Response) -> None:
    """An httpx response hook: `Retry-After` as seconds, whatever form GitHub sent.

    The header may be an HTTP date; githubkit parses it with `int()` and would raise a bare
    ValueError. A value we cannot read is dropped: the status alone then decides.
    """
    value = response.headers.get("retry-after")
    if value is None:
        return
    seconds = retry_after_seconds(value, now=datetime.now(UTC))
    if seconds is None:
        del response.headers["retry-after"]
    else:
        response.headers["retry-after"] = str(seconds)


def retry_after_seconds(value: str, *, now: datetime) -> int | None:
    value = value.strip()
    try:
        return max(0, ceil(float(value)))
    except (ValueError, OverflowError):  # not a number, or "nan"/"inf"
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0, ceil((when - now).total_seconds()))
