"""Reading what one attempt of a Messages call came back with: the message as a `ModelReply`
(the tool's input, the text, the thinking blocks to replay, the usage), or the error as a
`Failure`: transient or not, how long the server asked us to wait (`retry-after-ms`,
`retry-after` in seconds or as an HTTP date), and the base of the backoff when it asked nothing.
An `error` event in the middle of a stream is read as the status it stands for
(`overloaded_error` as a 529).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import anthropic
import httpx2
from anthropic.types import Message, RedactedThinkingBlock, TextBlock, ThinkingBlock, ToolUseBlock

from app.llm.model import ModelReply, Usage

# Backoff when the server names no wait: equal jitter on base · 2^(n-1), at most max_wait.
# The server's own trouble (529 overloaded, 5xx, a 429 without retry-after) passes in seconds,
# not in the blink a lost connection may need.
_SERVER_BACKOFF_SECONDS = 5.0
TRANSPORT_BACKOFF_SECONDS = 1.0
DETAIL_CHARS = 300

_PERMANENT = {
    400: "invalid request",
    401: "authentication failed",
    402: "billing problem",
    403: "permission denied",
    404: "not found",
    405: "method not allowed",
    413: "request too large",
    422: "unprocessable request",
}
_TRANSIENT = {408: "request timeout", 409: "conflict", 429: "rate limited", 529: "overloaded"}


# Refusals about the key, the account or the model: no other request of the review can succeed.
_FATAL_STATUSES = frozenset({401, 402, 403, 404})


@dataclass(frozen=True, slots=True)
class Failure:
    what: str  # e.g. "rate limited (429 rate_limit_error)"
    detail: str = ""  # the API's message or a hint
    transient: bool = False
    retry_after: float | None = None  # what the server asked us to wait, in seconds
    status: int | None = None
    backoff: float = TRANSPORT_BACKOFF_SECONDS  # base of the backoff when it asked nothing

    @property
    def fatal(self) -> bool:
        return self.status in _FATAL_STATUSES


def failure_of(
    exc: anthropic.AnthropicError, *, timeout_seconds: float, model: str, credentials: str
) -> Failure:
    """What an SDK exception means for the retry loop. `credentials`: what a 401 should make
    the operator check (the API key, the AWS or Google Cloud credentials)."""
    if isinstance(exc, anthropic.APIStatusError):
        return _status_failure(exc, model=model, credentials=credentials)
    if isinstance(exc, anthropic.APITimeoutError):
        return Failure(f"timed out ({timeout_seconds:g}s timeout)", transient=True)
    if isinstance(exc, anthropic.APIConnectionError):
        cause = type(exc.__cause__).__name__ if exc.__cause__ else "unknown cause"
        return Failure(f"connection failed ({cause})", transient=True)
    return Failure(f"the SDK refused the call ({type(exc).__name__})", first_line(exc))


def _status_failure(exc: anthropic.APIStatusError, *, model: str, credentials: str) -> Failure:
    status = exc.status_code
    error_type = exc.type if isinstance(exc.type, str) else "no error type"
    message = " ".join(str(exc.api_message or "").split())[:DETAIL_CHARS]
    if status in _TRANSIENT or status >= 500:
        label = _TRANSIENT.get(status, "server error")
        return Failure(
            f"{label} ({status} {error_type})",
            message,
            transient=True,
            retry_after=retry_after_seconds(exc.response.headers),
            backoff=_SERVER_BACKOFF_SECONDS,
        )
    what = f"{_PERMANENT.get(status, 'refused')} ({status} {error_type})"
    if status == 401:
        return Failure(what, f"check {credentials}", status=status)
    if status == 404:
        said = f" The API said: {message}" if message else ""
        return Failure(what, f"is the model {model!r} available here?{said}", status=status)
    return Failure(what, message, status=status)


def reply_of(message: Message, tool_name: str, attempts: int, max_tokens: int) -> ModelReply:
    tool = next(
        (b for b in message.content if isinstance(b, ToolUseBlock) and b.name == tool_name), None
    )
    usage = message.usage
    return ModelReply(
        tool_input=dict(tool.input) if tool is not None else None,
        tool_use_id=tool.id if tool is not None else None,
        text="\n".join(b.text for b in message.content if isinstance(b, TextBlock)),
        thinking=_thinking(message),
        stop_reason=message.stop_reason,
        usage=Usage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_input_tokens or 0,
            cache_write_tokens=usage.cache_creation_input_tokens or 0,
        ),
        model=message.model,
        attempts=attempts,
        output_limit=max_tokens,
    )


def _thinking(message: Message) -> tuple[dict[str, str], ...]:
    blocks: list[dict[str, str]] = []
    for block in message.content:
        if isinstance(block, ThinkingBlock):
            blocks.append(
                {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
            )
        elif isinstance(block, RedactedThinkingBlock):
            blocks.append({"type": "redacted_thinking", "data": block.data})
    return tuple(blocks)


# The status an error event stands for when it arrives after the stream's 200.
_EVENT_STATUS = {
    "overloaded_error": 529,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "invalid_request_error": 400,
}


def mid_stream(exc: anthropic.APIStatusError) -> anthropic.APIStatusError:
    """An `error` event after the stream's 200, as the status error it stands for (the SDK
    raises it with the stream's own 200, which would read as a refusal)."""
    status = _EVENT_STATUS.get(exc.type if isinstance(exc.type, str) else "", 500)
    response = httpx2.Response(status, headers=exc.response.headers, request=exc.request)
    return anthropic.APIStatusError(exc.message, response=response, body=exc.body)


def retry_after_seconds(headers: httpx2.Headers) -> float | None:
    """Seconds the server asks us to wait: `retry-after-ms`, or `retry-after` in seconds or as
    an HTTP date (measured against the response's own `date` when it has one)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            seconds = float(headers.get(name, "")) * scale
        except ValueError:
            continue
        if math.isfinite(seconds):
            return seconds
    when = _http_date(headers.get("retry-after"))
    if when is None:
        return None
    now = _http_date(headers.get("date")) or datetime.now(UTC)
    return (when - now).total_seconds()


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:2])[:DETAIL_CHARS]
