"""The Anthropic adapter: one tool-answered Messages call, with our retries, deadline and errors.

What is sent is built in `app.llm.anthropic_request` (the system blocks with the cache
breakpoint, the strict tool, the model's own `max_tokens`, `thinking` and `tool_choice`, a
repair's replay); what came back is read in `app.llm.anthropic_reply` (the reply, or the error
as a `Failure`). This module makes the attempts.

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
import random
import time
from collections.abc import Awaitable, Callable, Sequence

import anthropic
from anthropic import AsyncAnthropic, AsyncAnthropicBedrock, AsyncAnthropicVertex
from anthropic.types import Message

from app.llm.anthropic_reply import Failure, failure_of, first_line, mid_stream, reply_of
from app.llm.anthropic_request import Call, build_call, request_params
from app.llm.call_options import CallOptions, call_options
from app.llm.capabilities import ModelSpec, lookup
from app.llm.config import Provider
from app.llm.errors import LLMRejected, LLMUnavailable
from app.llm.model import ModelReply, ModelRequest
from app.logs import Redactor

Client = AsyncAnthropic | AsyncAnthropicBedrock | AsyncAnthropicVertex

_log = logging.getLogger(__name__)

# Our outer bound sits a little above the SDK's own timeout, so the SDK's clearer error wins.
_TIMEOUT_GRACE_SECONDS = 5.0
# An attempt is not started with less time than this left before the deadline.
_MIN_ATTEMPT_SECONDS = 10.0


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
        call = build_call(request, self._options(request.tool_name, answer_tokens))
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
                failure = Failure(f"no answer within {budget:.1f}s", transient=True)
            except anthropic.AnthropicError as exc:
                failure = failure_of(
                    exc,
                    timeout_seconds=self._timeout_seconds,
                    model=self.model,
                    credentials=self._credentials_name(),
                )
            except (ImportError, RuntimeError, ValueError) as exc:
                # The Bedrock and Vertex clients raise these while signing or routing a request.
                failure = Failure("the client could not prepare the request", first_line(exc))
            else:
                return reply_of(message, request.tool_name, attempt, answer_tokens)

            if not failure.transient:
                raise LLMRejected(
                    self._scrub(_join(failure.what, failure.detail)),
                    attempts=attempt,
                    fatal=failure.fatal,
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

    async def _create(self, call: Call, started: asyncio.Event | None = None) -> Message:
        params = request_params(self.model, call)
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
                raise mid_stream(exc) from exc
            raise
        finally:
            # An attempt that failed before its response began caches nothing: whoever waits
            # for it should wait no longer than one attempt.
            if started is not None:
                started.set()

    def _credentials_name(self) -> str:
        if isinstance(self._client, AsyncAnthropicBedrock):
            return "the AWS credentials (or AWS_BEARER_TOKEN_BEDROCK)"
        if isinstance(self._client, AsyncAnthropicVertex):
            return "the Google Cloud credentials"
        return "ANTHROPIC_API_KEY"

    def _wait(
        self, attempt: int, failure: Failure, deadline: float | None, min_attempt: float
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


def _provider(client: Client) -> Provider:
    if isinstance(client, AsyncAnthropicBedrock):
        return "bedrock"
    if isinstance(client, AsyncAnthropicVertex):
        return "vertex"
    return "anthropic"


def _has_botocore() -> bool:
    return importlib.util.find_spec("botocore") is not None


def _seconds(value: float) -> str:
    return f"{round(value, 1):g} s"


def _join(head: str, detail: str) -> str:
    return f"{head}: {detail}" if detail else head
