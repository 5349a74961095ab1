"""What a review asks of a model and what comes back, plus the one verb the pipeline uses.

These types carry no SDK objects, so the core and the pipeline can build requests and read
replies without importing `anthropic`; `ReviewModel` is the interface a fake model implements.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens one or more calls consumed, as the API bills them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
        )

    @property
    def total(self) -> int:
        """All four kinds summed: what token budgets count."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
        )


@dataclass(frozen=True, slots=True)
class ModelReply:
    """One answer from the model, reduced to what the review reads."""

    tool_input: dict[str, Any] | None  # the forced tool's input; None for a text-only answer
    tool_use_id: str | None
    text: str  # the text blocks, joined
    stop_reason: str | None  # "tool_use", "end_turn", "max_tokens", "refusal", ...
    usage: Usage
    model: str
    attempts: int = 1  # HTTP attempts this reply took
    # The answer's output limit it was given (without any thinking budget): a cut answer reached it.
    output_limit: int | None = None
    # The thinking blocks as the API sent them (`thinking` + `signature`, or `redacted_thinking`
    # + `data`), replayed unchanged in a repair turn.
    thinking: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Repair:
    """A second try: the earlier reply is replayed and the problems are sent back."""

    previous: ModelReply
    problems: str  # e.g. the validation errors, one per line


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One forced-tool call: system prompt blocks, the user's text, and the tool to answer with."""

    system: tuple[str, ...]  # the last block is marked for prompt caching
    user: str
    tool_name: str
    tool_description: str
    input_schema: dict[str, Any]  # plain JSON Schema; the adapter makes it strict
    repair: Repair | None = None
    # The answer's output limit (`max_tokens`); None: the model's configured limit. Raised for
    # the one retry of an answer cut off at that limit.
    max_output_tokens: int | None = None


class ReviewModel(Protocol):
    """A model that answers a review request through its tool."""

    model: str

    async def review(
        self,
        request: ModelRequest,
        *,
        deadline: float | None = None,
        started: asyncio.Event | None = None,
    ) -> ModelReply:
        """Call the model; raise LLMUnavailable or LLMRejected when no reply can be had.

        `deadline` is a `time.monotonic()` instant after which no call may start and no wait
        may end. A wait the server asks for (`retry-after`) is honoured in full or not at all:
        when it does not fit before the deadline, the call gives up at once and the reason
        says what the server asked.
        `started`, when given, is set once a response has begun (the API has cached
        the prompt's prefix by then) or an attempt failed before one did (nothing to wait for);
        a model that cannot tell may leave it unset.
        """
        ...
