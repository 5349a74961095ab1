"""The Anthropic adapter: one tool-answered Messages call, with our retries, deadline and errors.

What is sent: the system blocks (the last one marked `cache_control: ephemeral`, so the stable
prefix is cached), the user text, one strict tool whose schema went through
`anthropic.transform_schema`, and the model's own `max_tokens`, `thinking` and `tool_choice`
(`app.llm.call_options`: thinking with `auto` and an instruction where the model thinks, else
the tool forced where the model allows it). No sampling parameters: API version 2026-10-21
rejects them. A repair replays the earlier answer (its thinking blocks unchanged, as the API
requires) and sends the problems back as an error `tool_result`.

The call is streamed (`messages.stream`), and read to its end: what the caller gets is the same
final message. Streaming tells when the response has begun (`message_start`), which is when
the API has written the prompt's prefix to its cache: the caller's `started` event is set
then, so the other parts of a review can be sent to read that entry instead of each paying to
write it. An attempt that fails before its response begins sets it too: there is nothing to wait
for, and the others should not wait for the retries. An `error` event in the middle of a stream
is classified like the status it stands for (`overloaded_error` as a 529).

Retries are ours, not the SDK's (clients are built with `max_retries=0`): the SDK obeys a
`retry-after` of an hour. We retry 408, 409, 429, 5xx and 529, timeouts and lost connections.
When the server says how long to wait (`retry-after-ms`, `retry-after`), we wait exactly that,
or not at all: a wait longer than `max_wait_seconds`, or one that would leave no time for an
attempt before the caller's deadline, gives up at once with a reason naming what the server
asked (a shorter wait would only earn another 429). Otherwise we back off exponentially with
jitter, in seconds for the server's own trouble (529, 5xx) and briefly for a lost connection,
never past the deadline. Every attempt also runs under `asyncio.timeout`, so a server that
never answers cannot hold a review.

Every SDK exception is translated here into `LLMUnavailable` or `LLMRejected`, whose reasons
pass through the secret scrubber first.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import anthropic
import httpx2
from anthropic import AsyncAnthropic, AsyncAnthropicBedrock, AsyncAnthropicVertex, Omit
from anthropic.types import (
    ContentBlockParam,
    Message,
    MessageParam,
    RedactedThinkingBlock,
    TextBlock,
    TextBlockParam,
    ThinkingBlock,
    ToolParam,
    ToolUseBlock,
)
from anthropic.types.message_create_params import MessageCreateParamsBase

from app.llm.call_options import CallOptions, call_options, tool_instruction
from app.llm.capabilities import ModelSpec, lookup
from app.llm.config import Provider
from app.llm.errors import LLMRejected, LLMUnavailable
from app.llm.model import ModelReply, ModelRequest, Repair, Usage
from app.logs import Redactor

Client = AsyncAnthropic | AsyncAnthropicBedrock | AsyncAnthropicVertex

_log = logging.getLogger(__name__)

# Backoff when the server names no wait: equal jitter on base · 2^(n-1), at most max_wait.
# The server's own trouble (529 overloaded, 5xx, a 429 without retry-after) passes in seconds,
# not in the blink a lost connection may need.
_SERVER_BACKOFF_SECONDS = 5.0
_TRANSPORT_BACKOFF_SECONDS = 1.0
# Our outer bound sits a little above the SDK's own timeout, so the SDK's clearer error wins.
_TIMEOUT_GRACE_SECONDS = 5.0
# An attempt is not started with less time than this left before the deadline.
_MIN_ATTEMPT_SECONDS = 10.0
_DETAIL_CHARS = 300

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
class _Failure:
    what: str  # e.g. "rate limited (429 rate_limit_error)"
    detail: str = ""  # the API's message or a hint
    transient: bool = False
    retry_after: float | None = None  # what the server asked us to wait, in seconds
    status: int | None = None
    backoff: float = _TRANSPORT_BACKOFF_SECONDS  # base of the backoff when it asked nothing


class AnthropicModel:
    """A `ReviewModel` on Anthropic's Messages API (direct, Bedrock or Vertex client)."""

    def __init__(
        self,
        client: Client,
        *,
        model: str,
        max_output_tokens: int,
        timeout_seconds: float,
        max_attempts: int,
        max_wait_seconds: float = 120.0,
        secrets: Sequence[str] = (),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        thinking_budget: int = 0,
        spec: ModelSpec | None = None,
    ) -> None:
        """`spec`: the model's row (default: looked up by `model` on the client's provider; an
        id the table lacks is a ValueError, as callers refuse those first).
        `thinking_budget`: tokens the model may think (0: no thinking where it can be off)."""
        # A client with SDK retries would sleep on `retry-after` uncapped behind our back.
        self._client = client if client.max_retries == 0 else client.with_options(max_retries=0)
        self.model = model
        found = spec or lookup(_provider(client), model)
        if found is None:
            raise ValueError(f"model {model[:80]!r} is not in the capability table")
        self.spec = found
        self._thinking_budget = thinking_budget
        self._max_output_tokens = max_output_tokens
        self._timeout_seconds = timeout_seconds
        self._max_attempts = max(1, max_attempts)
        self._max_wait_seconds = max_wait_seconds
        self._redactor = Redactor(secrets)
        self._sleep = sleep
        self._clock = clock
        # Bedrock frames a stream in AWS event-stream messages, which the SDK decodes with
        # botocore; with a bearer token and no botocore, the call is made without streaming
        # (a response then counts as begun when it has ended).
        self._streams = not isinstance(client, AsyncAnthropicBedrock) or _has_botocore()

    async def aclose(self) -> None:
        """Close the SDK client and its connections (a caller-owned http_client too)."""
        await self._client.close()

    async def review(
        self,
        request: ModelRequest,
        *,
        deadline: float | None = None,
        started: asyncio.Event | None = None,
    ) -> ModelReply:
        """Call the model until it answers, the attempts run out, or the deadline is near;
        `started` is set when a response begins (or an attempt fails before one does)."""
        # The answer's own limit; the options add the thinking budget beside it.
        answer_tokens = request.max_output_tokens or self._max_output_tokens
        call = _call(request, self._options(request.tool_name, answer_tokens))
        min_attempt = min(self._timeout_seconds, _MIN_ATTEMPT_SECONDS)
        attempt = 0
        while True:
            left = None if deadline is None else deadline - self._clock()
            if left is not None and left < min_attempt:
                raise LLMUnavailable(
                    self._scrub("the deadline left no time for a model call"), attempts=attempt
                )
            budget = self._timeout_seconds + _TIMEOUT_GRACE_SECONDS
            budget = budget if left is None else min(budget, left)
            attempt += 1
            try:
                async with asyncio.timeout(budget):
                    message = await self._create(call, started)
            except TimeoutError:
                failure = _Failure(f"no answer within {budget:.1f}s", transient=True)
            except anthropic.AnthropicError as exc:
                failure = self._failure(exc)
            except (ImportError, RuntimeError, ValueError) as exc:
                # The Bedrock and Vertex clients raise these while signing or routing a request.
                failure = _Failure("the client could not prepare the request", _first_line(exc))
            else:
                return _reply(message, request.tool_name, attempt, answer_tokens)

            if not failure.transient:
                raise LLMRejected(
                    self._scrub(_join(failure.what, failure.detail)),
                    attempts=attempt,
                    fatal=failure.status in _FATAL_STATUSES,
                )
            tried = f"{failure.what} after {attempt} attempt{'s' if attempt > 1 else ''}"
            if attempt >= self._max_attempts:
                raise LLMUnavailable(self._scrub(_join(tried, failure.detail)), attempts=attempt)
            wait, refused = self._wait(attempt, failure, deadline, min_attempt)
            if refused:
                reason = f"{tried}; {refused}"
                raise LLMUnavailable(self._scrub(_join(reason, failure.detail)), attempts=attempt)
            _log.warning(
                "model call failed: %s; retrying in %.1fs (attempt %d of %d)",
                self._scrub(failure.what),
                wait,
                attempt + 1,
                self._max_attempts,
            )
            await self._sleep(wait)

    def _options(self, tool_name: str, answer_tokens: int) -> CallOptions:
        return call_options(
            self.spec,
            tool_name=tool_name,
            max_output_tokens=answer_tokens,
            thinking_budget=self._thinking_budget,
        )

    async def _create(self, call: _Call, started: asyncio.Event | None = None) -> Message:
        params = self._params(call)
        try:
            if not self._streams:
                return await self._client.messages.create(**params, timeout=self._timeout_seconds)
            async with self._client.messages.stream(
                **params, timeout=self._timeout_seconds
            ) as stream:
                async for event in stream:
                    if event.type == "message_start" and started is not None:
                        started.set()
                return await stream.get_final_message()
        except anthropic.APIStatusError as exc:
            if exc.status_code == 200:  # an error event after the stream began
                raise _mid_stream(exc) from exc
            raise
        finally:
            # An attempt that failed before its response began caches nothing: whoever waits
            # for it should wait no longer than one attempt.
            if started is not None:
                started.set()

    def _params(self, call: _Call) -> MessageCreateParamsBase:
        """The Messages API request, the same streamed or not."""
        params: MessageCreateParamsBase = {
            "model": self.model,
            "max_tokens": call.options.max_tokens,
            "messages": call.messages,
            "tools": [call.tool],
            "tool_choice": call.options.tool_choice,
        }
        if not isinstance(call.options.thinking, Omit):
            params["thinking"] = call.options.thinking
        if call.system:
            params["system"] = call.system
        return params

    def _failure(self, exc: anthropic.AnthropicError) -> _Failure:
        if isinstance(exc, anthropic.APIStatusError):
            return self._status_failure(exc)
        if isinstance(exc, anthropic.APITimeoutError):
            return _Failure(f"timed out ({self._timeout_seconds:g}s timeout)", transient=True)
        if isinstance(exc, anthropic.APIConnectionError):
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "unknown cause"
            return _Failure(f"connection failed ({cause})", transient=True)
        return _Failure(f"the SDK refused the call ({type(exc).__name__})", _first_line(exc))

    def _status_failure(self, exc: anthropic.APIStatusError) -> _Failure:
        status = exc.status_code
        error_type = exc.type if isinstance(exc.type, str) else "no error type"
        message = " ".join(str(exc.api_message or "").split())[:_DETAIL_CHARS]
        if status in _TRANSIENT or status >= 500:
            label = _TRANSIENT.get(status, "server error")
            return _Failure(
                f"{label} ({status} {error_type})",
                message,
                transient=True,
                retry_after=_retry_after(exc.response.headers),
                backoff=_SERVER_BACKOFF_SECONDS,
            )
        what = f"{_PERMANENT.get(status, 'refused')} ({status} {error_type})"
        if status == 401:
            return _Failure(what, f"check {self._credentials_name()}", status=status)
        if status == 404:
            said = f" The API said: {message}" if message else ""
            return _Failure(
                what, f"is the model {self.model!r} available here?{said}", status=status
            )
        return _Failure(what, message, status=status)

    def _credentials_name(self) -> str:
        if isinstance(self._client, AsyncAnthropicBedrock):
            return "the AWS credentials (or AWS_BEARER_TOKEN_BEDROCK)"
        if isinstance(self._client, AsyncAnthropicVertex):
            return "the Google Cloud credentials"
        return "ANTHROPIC_API_KEY"

    def _wait(
        self, attempt: int, failure: _Failure, deadline: float | None, min_attempt: float
    ) -> tuple[float, str | None]:
        """How long to wait before the next attempt, or why there is no next attempt.

        A wait the server asked for is kept to the letter: retrying sooner only earns another
        refusal. If it is longer than `max_wait_seconds`, or would leave less than one attempt's
        time before the deadline, the call gives up now, saying what the server asked."""
        left = None if deadline is None else deadline - self._clock() - min_attempt
        if failure.retry_after is not None:
            wait = max(failure.retry_after, 0.0)
            asked = f"the server asked to wait {_seconds(wait)}"
            if wait > self._max_wait_seconds:
                longest = _seconds(self._max_wait_seconds)
                return wait, f"{asked}, longer than the {longest} we wait for one retry"
            if left is not None and wait > left:
                return wait, f"{asked}, past this review's deadline"
            return wait, None
        # Equal jitter: between half and all of the exponential step, so that parts failing
        # together do not come back together, and no wait is next to nothing.
        step = min(failure.backoff * 2 ** (attempt - 1), self._max_wait_seconds)
        wait = step * random.uniform(0.5, 1.0)
        if left is not None and wait > left:
            return wait, "the deadline leaves no time to retry"
        return wait, None

    def _scrub(self, text: str) -> str:
        return self._redactor.redact(text)


@dataclass(frozen=True, slots=True)
class _Call:
    """The request-specific part of one Messages call, built once and sent on every attempt."""

    system: list[TextBlockParam]
    messages: list[MessageParam]
    tool: ToolParam
    options: CallOptions


def _provider(client: Client) -> Provider:
    if isinstance(client, AsyncAnthropicBedrock):
        return "bedrock"
    if isinstance(client, AsyncAnthropicVertex):
        return "vertex"
    return "anthropic"


def _call(request: ModelRequest, options: CallOptions) -> _Call:
    # Where the tool is not forced, every user turn ends by asking for it: after the system
    # prompt's cache breakpoint, so the cached prefix stays the same.
    instruction = tool_instruction(request.tool_name) if options.instruct else None
    return _Call(
        system=_system(request.system),
        messages=_messages(request, instruction),
        tool={
            "name": request.tool_name,
            "description": request.tool_description,
            "input_schema": anthropic.transform_schema(request.input_schema),
            "strict": True,
        },
        options=options,
    )


def _system(blocks: Sequence[str]) -> list[TextBlockParam]:
    system: list[TextBlockParam] = [{"type": "text", "text": b} for b in blocks if b]
    if system:
        # One breakpoint after the stable prefix: everything up to it is cached.
        system[-1]["cache_control"] = {"type": "ephemeral"}
    return system


def _messages(request: ModelRequest, instruction: str | None) -> list[MessageParam]:
    extra: list[ContentBlockParam] = (
        [{"type": "text", "text": instruction}] if instruction is not None else []
    )
    user: list[ContentBlockParam] = [{"type": "text", "text": request.user}, *extra]
    repair = request.repair
    if repair is None:
        return [{"role": "user", "content": user if extra else request.user}]
    replay = _replay(repair.previous, request.tool_name)
    if all(b["type"] in ("thinking", "redacted_thinking") for b in replay):
        # Nothing came back to replay but, perhaps, thinking (an empty or truncated answer): ask
        # again in one user turn.
        feedback = _text_only_feedback(request.tool_name, repair.problems)
        content: list[ContentBlockParam] = [
            {"type": "text", "text": request.user},
            {"type": "text", "text": feedback},
        ]
        return [{"role": "user", "content": content}]
    return [
        {"role": "user", "content": user if extra else request.user},
        {"role": "assistant", "content": replay},
        {"role": "user", "content": [_feedback(repair, request.tool_name), *extra]},
    ]


def _replay(previous: ModelReply, tool_name: str) -> list[ContentBlockParam]:
    # Thinking blocks first and unchanged: the API checks their signatures.
    blocks: list[ContentBlockParam] = [_thinking_param(b) for b in previous.thinking]
    if previous.text:
        blocks.append({"type": "text", "text": previous.text})
    if previous.tool_input is not None and previous.tool_use_id:
        blocks.append(
            {
                "type": "tool_use",
                "id": previous.tool_use_id,
                "name": tool_name,
                "input": previous.tool_input,
            }
        )
    return blocks


def _thinking_param(block: dict[str, str]) -> ContentBlockParam:
    if block.get("type") == "redacted_thinking":
        return {"type": "redacted_thinking", "data": block["data"]}
    return {"type": "thinking", "thinking": block["thinking"], "signature": block["signature"]}


def _feedback(repair: Repair, tool_name: str) -> ContentBlockParam:
    previous = repair.previous
    if previous.tool_input is not None and previous.tool_use_id:
        problems = repair.problems.strip() or "The answer was not accepted."
        return {
            "type": "tool_result",
            "tool_use_id": previous.tool_use_id,
            "is_error": True,
            "content": f"{problems}\n\nCall {tool_name} again with a corrected, complete answer.",
        }
    return {"type": "text", "text": _text_only_feedback(tool_name, repair.problems)}


def _text_only_feedback(tool_name: str, problems: str) -> str:
    return (
        f"Your answer must come through the {tool_name} tool, not as text.\n\n"
        f"{problems.strip()}\n\nCall {tool_name} now with a complete answer."
    )


def _reply(message: Message, tool_name: str, attempts: int, max_tokens: int) -> ModelReply:
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


def _has_botocore() -> bool:
    return importlib.util.find_spec("botocore") is not None


# The status an error event stands for when it arrives after the stream's 200.
_EVENT_STATUS = {
    "overloaded_error": 529,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "invalid_request_error": 400,
}


def _mid_stream(exc: anthropic.APIStatusError) -> anthropic.APIStatusError:
    """An `error` event after the stream's 200, as the status error it stands for (the SDK
    raises it with the stream's own 200, which would read as a refusal)."""
    status = _EVENT_STATUS.get(exc.type if isinstance(exc.type, str) else "", 500)
    response = httpx2.Response(status, headers=exc.response.headers, request=exc.request)
    return anthropic.APIStatusError(exc.message, response=response, body=exc.body)


def _retry_after(headers: httpx2.Headers) -> float | None:
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


def _seconds(value: float) -> str:
    return f"{round(value, 1):g} s"


def _join(head: str, detail: str) -> str:
    return f"{head}: {detail}" if detail else head


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:2])[:_DETAIL_CHARS]
