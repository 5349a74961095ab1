"""githubkit's and httpx's exceptions, translated into our GitHubError at the adapter's edge.

    GitHubError                      (app.github.types) reason, status, transient, retry_after
    └── ReviewRejected               422 on a pull-request review (raised by RepoClient)

    githubkit / httpx                          GitHubError
    RateLimitExceeded (primary, secondary)     transient, retry_after = GitHub's wait
    403/429 "secondary rate limit", no header  transient, retry_after = 60
    RequestFailed 5xx, 408, 429                transient
    RequestFailed 401/403/404/406/422, ...     not transient
    RequestTimeout, httpx.TransportError       transient
    GraphQLFailed (an `errors` array)          not transient; status 404 for NOT_FOUND
    GraphQL RATE_LIMITED (githubkit: primary)  transient, retry_after = until the reset
    anything else raised inside a request      not transient (e.g. a key the JWT cannot be
    (bad key, malformed token answer)          signed with)
    pydantic ValidationError of a body         not transient (githubkit checks bodies before
                                               sending)
    httpx error raised before sending          not transient (e.g. a URL httpx cannot build)

The reason carries the status, GitHub's `message` (first line, clipped, token shapes redacted),
the method and the path: never headers, bodies we sent, or the exception text of a library.
"""

from __future__ import annotations

from typing import Any

import httpx
from githubkit.exception import (
    GitHubException,
    GraphQLFailed,
    PrimaryRateLimitExceeded,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)
from pydantic import ValidationError

from app.github.retry import (
    SECONDARY_LIMIT_WAIT,
    is_token_exchange,
    request_of,
    transport_error,
    unwrap,
)
from app.github.types import GitHubError
from app.logs import Redactor

_MESSAGE_LIMIT = 300
_REDACT = Redactor()


def translate(
    exc: GitHubException | ValidationError | httpx.HTTPError | httpx.InvalidURL,
) -> GitHubError:
    if isinstance(exc, httpx.TransportError):
        return GitHubError(f"connection to GitHub failed ({type(exc).__name__})", transient=True)
    if isinstance(exc, httpx.HTTPError | httpx.InvalidURL):
        return GitHubError(f"GitHub request could not be made ({type(exc).__name__})")
    if isinstance(exc, ValidationError):
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:3])
        return GitHubError(f"request body refused before sending ({fields or 'invalid'})")
    failure = unwrap(exc)
    request = request_of(failure)
    where = _where(request)
    if isinstance(failure, RateLimitExceeded):
        kind = "primary" if isinstance(failure, PrimaryRateLimitExceeded) else "secondary"
        wait = failure.retry_after.total_seconds()
        return GitHubError(
            f"GitHub {kind} rate limit ({failure.response.status_code}); "
            f"retry after {wait:.0f} s{where}",
            status=failure.response.status_code,
            transient=True,
            retry_after=wait,
        )
    if isinstance(failure, RequestFailed):
        return _failed(failure.response.raw_response, request, where)
    if isinstance(failure, GraphQLFailed):
        return _graphql_failed(failure)
    if isinstance(failure, RequestTimeout):
        return GitHubError(f"GitHub did not answer in time{where}", transient=True)
    if (transport := transport_error(failure)) is not None:
        name = type(transport).__name__
        return GitHubError(f"connection to GitHub failed ({name}){where}", transient=True)
    inner = failure.exc if isinstance(failure, RequestError) else failure
    # Not str(inner): a library's message about a key or token may quote it.
    return GitHubError(f"GitHub request failed before an answer ({type(inner).__name__}){where}")


def message_of(response: httpx.Response) -> str:
    """GitHub's `message`, with the `errors` details it gives for 406/422, safe to show."""
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return response.reason_phrase or ""
    parts = [str(data.get("message") or "")]
    errors = data.get("errors")
    if isinstance(errors, list):
        for item in errors[:5]:
            if isinstance(item, str):
                parts.append(item)
            elif isinstance(item, dict):
                parts.append(str(item.get("message") or item.get("code") or ""))
    text = "; ".join(p for p in parts if p).splitlines()
    first = text[0] if text else ""
    return _REDACT.redact(first[:_MESSAGE_LIMIT])


def error_codes(response: httpx.Response) -> set[str]:
    """The `errors[].code` values of an error answer (e.g. `too_large` on a 406 diff)."""
    try:
        data: Any = response.json()
    except ValueError:
        return set()
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return set()
    return {str(e["code"]) for e in errors if isinstance(e, dict) and "code" in e}


def _failed(response: httpx.Response, request: httpx.Request | None, where: str) -> GitHubError:
    status = response.status_code
    message = message_of(response)
    lowered = message.lower()
    secondary = status in (403, 429) and (
        "secondary rate limit" in lowered or "abuse detection" in lowered
    )
    if secondary or status == 429:
        return GitHubError(
            f"GitHub rate limit ({status}: {message}); retry after "
            f"{SECONDARY_LIMIT_WAIT:.0f} s{where}",
            status=status,
            transient=True,
            retry_after=SECONDARY_LIMIT_WAIT,
        )
    if is_token_exchange(request):
        hint = {
            401: ": check GITHUB_APP_ID, the private key and this machine's clock",
            404: ": the App is not installed there (any more)",
        }.get(status, "")
        return GitHubError(
            f"GitHub refused an installation token ({status}: {message}){hint}",
            status=status,
            transient=status >= 500,
        )
    return GitHubError(
        f"GitHub answered {status}: {message}{where}",
        status=status,
        transient=status >= 500 or status == 408,
    )


def _graphql_failed(failure: GraphQLFailed) -> GitHubError:
    """An answer with an `errors` array (HTTP 200): GitHub's first message, safe to show."""
    errors = failure.response.errors or []
    first = errors[0] if errors else None
    kind = (first.type or "") if first is not None else ""
    message = (first.message or "") if first is not None else ""
    lines = message.splitlines()
    shown = _REDACT.redact(lines[0][:_MESSAGE_LIMIT]) if lines else "no message"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    label = f"{kind}: " if kind else ""
    return GitHubError(
        f"GitHub GraphQL answered with errors ({label}{shown}){more} (POST /graphql)",
        status=404 if kind == "NOT_FOUND" else None,
    )


def _where(request: httpx.Request | None) -> str:
    return f" ({request.method} {request.url.path})" if request is not None else ""
