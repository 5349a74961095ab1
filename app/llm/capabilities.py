"""What each Claude model we can review with allows and costs: pure data and a lookup.

One row per model, with its ids on each provider (the direct API's alias and dated id, Bedrock's
`anthropic.…` id, which an inference profile prefixes with `us.`, `eu.`, `global.`…, and Vertex's
`…@date` or bare id). An id that no row names is refused: at start-up, by `doctor`, by
`config check`, and for a persona's `model:` at review time. The sources and the date the
figures were read are in docs/llm.md ("Models"); a new model is a new row there and here.

`thinking` says how the model reasons before it answers, if we let it:
- "budget": `thinking: {type: enabled, budget_tokens: N}` (N ≥ 1024 and below `max_tokens`).
- "adaptive": `thinking: {type: adaptive}`; these models answer 400 to `enabled` with a budget.
Thinking does not combine with a forced `tool_choice` (only `auto` or `none`), so a request that
thinks asks for the tool with `auto` and an instruction; `forced_tool_choice` False marks the
models that answer 400 to a forced tool choice even without thinking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from app.llm.config import Provider

Thinking = Literal["budget", "adaptive"]

# Bedrock's cross-region inference profiles put a geography before the model id.
_BEDROCK_PROFILE = re.compile(r"^(?:[a-z]{2,6}(?:-[a-z]{2,6})?\.)?(anthropic\..+)$")
MIN_THINKING_BUDGET = 1024  # the API's floor for `budget_tokens`
PROVIDERS: tuple[Provider, ...] = ("anthropic", "bedrock", "vertex")


@dataclass(frozen=True, slots=True)
class Prices:
    """US dollars per million tokens (cache writes at the default five-minute lifetime)."""

    input: float
    output: float
    cache_read: float
    cache_write: float

    def per_mtok(self) -> tuple[float, float, float, float]:
        return (self.input, self.output, self.cache_read, self.cache_write)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str  # e.g. "Claude Sonnet 4.6"
    api_ids: tuple[str, ...]  # the direct API: alias first, then the dated id
    bedrock_ids: tuple[str, ...]  # without an inference profile's geography prefix
    vertex_ids: tuple[str, ...]
    forced_tool_choice: bool  # False: `tool_choice` `tool` or `any` is a 400
    thinking: Thinking | None  # how to turn thinking on; None: the model has none
    max_output_tokens: int  # the largest `max_tokens` it takes (non-streaming)
    context_window: int
    min_cache_tokens: int  # a shorter cached prefix is not cached (no error)
    prices: Prices

    def ids(self, provider: Provider) -> tuple[str, ...]:
        return {"anthropic": self.api_ids, "bedrock": self.bedrock_ids, "vertex": self.vertex_ids}[
            provider
        ]


_OPUS_45_PRICES = Prices(input=5.0, output=25.0, cache_read=0.5, cache_write=6.25)
_SONNET_4_PRICES = Prices(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
_SONNET_5_PRICES = Prices(input=2.0, output=10.0, cache_read=0.2, cache_write=2.5)

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="Claude Opus 5.5",
        api_ids=("claude-opus-5-5",),
        bedrock_ids=(),
        vertex_ids=(),
        forced_tool_choice=False,  # "forced tool use returns an error"; thinking is always on
        thinking="adaptive",
        max_output_tokens=128_000,
        context_window=1_000_000,
        min_cache_tokens=512,  # not published where we read; Opus 5's
        prices=Prices(input=4.0, output=20.0, cache_read=0.2, cache_write=5.0),
    ),
    ModelSpec(
        name="Claude Sonnet 5.5",
        api_ids=("claude-sonnet-5-5",),
        bedrock_ids=(),
        vertex_ids=(),
        forced_tool_choice=False,  # "forced tool use returns an error"
        thinking="adaptive",
        max_output_tokens=128_000,
        context_window=1_000_000,
        min_cache_tokens=1024,  # not published where we read; Sonnet 5's
        prices=_SONNET_5_PRICES,
    ),
    ModelSpec(
        name="Claude Opus 5",
        api_ids=("claude-opus-5",),
        bedrock_ids=("anthropic.claude-opus-5",),
        vertex_ids=("claude-opus-5",),
        forced_tool_choice=True,
        thinking="adaptive",
        max_output_tokens=128_000,
        context_window=1_000_000,
        min_cache_tokens=512,
        prices=_OPUS_45_PRICES,
    ),
    ModelSpec(
        name="Claude Sonnet 5",
        api_ids=("claude-sonnet-5",),
        bedrock_ids=(),
        vertex_ids=(),
        forced_tool_choice=True,
        thinking="adaptive",
        max_output_tokens=128_000,
        context_window=1_000_000,
        min_cache_tokens=1024,
        prices=_SONNET_5_PRICES,
    ),
    ModelSpec(
        name="Claude Opus 4.8",
        api_ids=("claude-opus-4-8",),
        bedrock_ids=(),
        vertex_ids=(),
        forced_tool_choice=True,
        thinking="adaptive",
        max_output_tokens=128_000,
        context_window=1_000_000,
        min_cache_tokens=1024,
        prices=_OPUS_45_PRICES,
    ),
    ModelSpec(
        name="Claude Opus 4.7",
        api_ids=("claude-opus-4-7",),
        bedrock_ids=("anthropic.claude-opus-4-7",),
        vertex_ids=("claude-opus-4-7",),
        forced_tool_choice=True,
        thinking="adaptive",
        max_output_tokens=128_000,
        context_window=1_000_000,
        min_cache_tokens=2048,
        prices=_OPUS_45_PRICES,
    ),
    ModelSpec(
        name="Claude Opus 4.6",
        api_ids=("claude-opus-4-6",),
        bedrock_ids=("anthropic.claude-opus-4-6-v1", "anthropic.claude-opus-4-6-v1:0"),
        vertex_ids=("claude-opus-4-6",),
        forced_tool_choice=True,
        # Budgets still work but are deprecated here (SDK 2.10 warns): adaptive.
        thinking="adaptive",
        max_output_tokens=128_000,
        context_window=1_000_000,
        min_cache_tokens=4096,
        prices=_OPUS_45_PRICES,
    ),
    ModelSpec(
        name="Claude Sonnet 4.6",
        api_ids=("claude-sonnet-4-6",),
        bedrock_ids=("anthropic.claude-sonnet-4-6",),
        vertex_ids=("claude-sonnet-4-6",),
        forced_tool_choice=True,
        thinking="budget",
        max_output_tokens=64_000,
        context_window=1_000_000,
        min_cache_tokens=1024,
        prices=_SONNET_4_PRICES,
    ),
    ModelSpec(
        name="Claude Opus 4.5",
        api_ids=("claude-opus-4-5", "claude-opus-4-5-20251101"),
        bedrock_ids=("anthropic.claude-opus-4-5-20251101-v1:0",),
        vertex_ids=("claude-opus-4-5@20251101",),
        forced_tool_choice=True,
        thinking="budget",
        max_output_tokens=64_000,
        context_window=200_000,
        min_cache_tokens=4096,
        prices=_OPUS_45_PRICES,
    ),
    ModelSpec(
        name="Claude Haiku 4.5",
        api_ids=("claude-haiku-4-5", "claude-haiku-4-5-20251001"),
        bedrock_ids=("anthropic.claude-haiku-4-5-20251001-v1:0",),
        vertex_ids=("claude-haiku-4-5@20251001",),
        forced_tool_choice=True,
        thinking="budget",
        max_output_tokens=64_000,
        context_window=200_000,
        min_cache_tokens=4096,
        prices=Prices(input=1.0, output=5.0, cache_read=0.1, cache_write=1.25),
    ),
    ModelSpec(
        # Retired on the direct API; still served on Bedrock and Vertex (the pricing page).
        name="Claude Opus 4.1",
        api_ids=(),
        bedrock_ids=("anthropic.claude-opus-4-1-20250805-v1:0",),
        vertex_ids=("claude-opus-4-1@20250805",),
        forced_tool_choice=True,
        thinking="budget",
        max_output_tokens=8_192,  # without streaming (the SDK's MODEL_NONSTREAMING_TOKENS)
        context_window=200_000,
        min_cache_tokens=1024,
        prices=Prices(input=15.0, output=75.0, cache_read=1.5, cache_write=18.75),
    ),
)


def lookup(provider: Provider, model_id: str) -> ModelSpec | None:
    """The row for `model_id` as `provider` spells it (exactly: the API would not forgive a
    stray space either), or None."""
    wanted = model_id
    if provider == "bedrock":
        match = _BEDROCK_PROFILE.match(wanted)
        wanted = match.group(1) if match else wanted
    return next((m for m in MODELS if wanted in m.ids(provider)), None)


def lookup_any(model_id: str) -> ModelSpec | None:
    """The row for an id as any provider spells it (a reply's `model`, a usage row's)."""
    return next((s for p in PROVIDERS if (s := lookup(p, model_id)) is not None), None)


def refusal(provider: Provider, model_id: str) -> str | None:
    """Why `model_id` cannot review on `provider` (one line), or None when it can."""
    if lookup(provider, model_id) is not None:
        return None
    shown = model_id[:80]
    elsewhere = lookup_any(shown)
    if elsewhere is not None:
        on = [p for p in PROVIDERS if elsewhere.ids(p)]
        return (
            f"model {shown!r} is not how {provider} names {elsewhere.name} "
            f"(served on: {', '.join(on)}; ids: {', '.join(elsewhere.ids(provider)) or 'none'})"
        )
    known = ", ".join(m.ids(provider)[0] for m in MODELS if m.ids(provider))
    return f"model {shown!r} is not a model backend-review knows on {provider} (known: {known})"
