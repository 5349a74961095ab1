"""The Linear adapter's error, and how an HTTP answer or a transport failure becomes one.

    BackendReviewError                 (app.errors)
    └── LinearError                    reason, transient, status, retry_after

    what happened                                     LinearError
    httpx.TimeoutException, our total deadline        transient, "did not answer within N s"
    other httpx.TransportError                        transient, "connection to Linear failed"
    401, or errors[].extensions.code                  not transient, "check LINEAR_API_KEY"
      AUTHENTICATION_ERROR
    403, or code FORBIDDEN                            not transient, "check LINEAR_API_KEY"
    429, or code RATELIMITED (Linear sends it as      transient, retry_after from Retry-After
      HTTP 400)
    5xx                                               transient
    other 4xx                                         not transient, Linear's first message
    body that is not a JSON object                    not transient
    GraphQL errors and no data                        not transient, Linear's first message
    one issue Linear cannot find                      that entry only: "not found"

`reason` is short, human and safe to show on a PR: it carries the status and Linear's own
message (first line, clipped, with the API key and anything token-shaped redacted), never a
header, the query we sent, or a library's exception text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import httpx

from app.errors import BackendReviewError
from app.logs import Redactor

_MESSAGE_LIMIT = 200
_AUTH_HINT = "check LINEAR_API_KEY"


class LinearError(BackendReviewError):
    """A Linear call, or one issue in it, that gave no usable answer.

    `transient`: the same request may succeed later (timeouts, lost connections, rate limits,
    5xx). The review does not wait for that: it carries on without the ticket.
    `status`: Linear's HTTP status, when an answer came.
    `retry_after`: seconds Linear asked us to wait, when it said.
    """

    def __init__(
        self,
        reason: str,
        *,
        transient: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.status = status
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"LinearError({self.reason!r}, transient={self.transient}, status={self.status}, "
            f"retry_after={self.retry_after})"
        )


def from_transport(exc: httpx.TransportError, timeout: float) -> LinearError:
    if isinstance(exc, httpx.TimeoutException):
        return timed_out(timeout)
    return LinearError(f"connection to Linear failed ({type(exc).__name__})", transient=True)


def timed_out(timeout: float) -> LinearError:
    return LinearError(f"Linear did not answer within {timeout:g} s", transient=True)


def from_status(response: httpx.Response, errors: list[Mapping[str, Any]]) -> LinearError | None:
    """The error for an answer that failed as a whole, or None when its body should be read.

    None for a 2xx, and for a 4xx carrying GraphQL `errors`: Linear answers some per-field
    failures (an issue it cannot find) that way, and the caller knows which field is which.
    """
    status = response.status_code
    # An error with a path belongs to one field (one issue): a refusal there is that issue's.
    codes = {_code(e) for e in errors if not e.get("path")}
    every_code = {_code(e) for e in errors}
    if status == 401 or "AUTHENTICATION_ERROR" in codes:
        return LinearError(f"Linear refused the API key ({status}): {_AUTH_HINT}", status=status)
    if status == 403 or "FORBIDDEN" in codes:
        return LinearError(f"Linear refused access ({status}): {_AUTH_HINT}", status=status)
    if status == 429 or "RATELIMITED" in every_code:
        wait = retry_after(response)
        what = "429" if status == 429 else "RATELIMITED"
        return LinearError(
            f"Linear rate limit ({what})" + (f", retry after {wait:g} s" if wait else ""),
            status=status,
            transient=True,
            retry_after=wait,
        )
    if status >= 500:
        return LinearError(
            f"Linear answered {status} (server error)", status=status, transient=True
        )
    if status >= 400 and not errors:
        return LinearError(f"Linear answered {status}", status=status)
    return None


def from_graphql(errors: list[Mapping[str, Any]], status: int, redactor: Redactor) -> LinearError:
    """A GraphQL answer with errors and nothing usable in `data`."""
    what = "Linear refused the query" if status >= 400 else "Linear answered with an error"
    return LinearError(f"{what} ({status}): {message(errors[0], redactor)}", status=status)


def message(error: Mapping[str, Any], redactor: Redactor) -> str:
    text = error.get("message")
    if not isinstance(text, str) or not text.strip():
        return "no message"
    # Redacted before clipping, so a clip cannot leave part of a secret unrecognised.
    first = redactor.redact(text.strip().splitlines()[0])
    return first if len(first) <= _MESSAGE_LIMIT else first[: _MESSAGE_LIMIT - 1] + "…"


def is_not_found(error: Mapping[str, Any]) -> bool:
    text = error.get("message")
    return isinstance(text, str) and "not found" in text.lower()


def retry_after(response: httpx.Response) -> float | None:
    # Only the delta-seconds form: an HTTP date needs the wall clock, and Linear sends seconds.
    value = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _code(error: Mapping[str, Any]) -> str | None:
    extensions = error.get("extensions")
    if not isinstance(extensions, Mapping):
        return None
    code = extensions.get("code")
    return code.upper() if isinstance(code, str) else None
