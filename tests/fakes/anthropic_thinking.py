"""The fake Messages API's rules for `thinking`, kept apart from the rest of the fake.

As the real API answers (400 `invalid_request_error`): `budget_tokens` at least 1024 and below
`max_tokens`; thinking (`enabled` or `adaptive`) together with a forced `tool_choice` (`tool`
or `any`); `enabled` on a model that only thinks adaptively; `disabled` on a model whose
thinking is always on; a forced tool on a model that refuses forced tool use; a thinking block
sent back changed (its signature no longer matches); with `enabled`, a last assistant turn
that calls a tool without starting with its thinking. The per-model sets are the fake's own
reading of the model pages (docs/llm.md, "Models"), not the app's table.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

# Models whose `thinking` must be adaptive (or omitted): `enabled` with a budget is a 400.
ADAPTIVE_ONLY = frozenset(
    {
        "claude-opus-4-7", "claude-opus-4-8", "claude-opus-5", "claude-sonnet-5",
        "claude-opus-5-5", "claude-sonnet-5-5", "claude-fable-5-1", "claude-fable-5-2",
    }
)  # fmt: skip
# Thinking always on: `disabled` is a 400, and so is a forced tool choice.
ALWAYS_THINKING = frozenset(
    {"claude-opus-5-5", "claude-fable-5-1", "claude-fable-5-2", "claude-mythos-5-1"}
)
FORCED_TOOL_REFUSED = ALWAYS_THINKING | {"claude-sonnet-5-5"}
_FORCED = ("tool", "any")


def signature(thinking: str) -> str:
    """The fake's signature for a thinking text: a changed text no longer matches it."""
    digest = hashlib.sha256(b"fake-thinking:" + thinking.encode()).digest()
    return base64.b64encode(digest).decode()


def thinking_block(thinking: str) -> dict[str, Any]:
    """A thinking block as the API sends it (put it first in an answer's content)."""
    return {"type": "thinking", "thinking": thinking, "signature": signature(thinking)}


def thinking_problem(body: dict[str, Any]) -> str | None:
    """The API's complaint about the request's `thinking` and what it must agree with."""
    model = body.get("model")
    thinking = body.get("thinking")
    choice = (body.get("tool_choice") or {}).get("type")
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if thinking is not None and kind not in ("enabled", "disabled", "adaptive", "between_tools"):
        return "thinking.type: Input tag does not match any of the expected tags"
    if kind == "enabled":
        budget = thinking.get("budget_tokens")  # type: ignore[union-attr]
        if not isinstance(budget, int) or budget < 1024:
            return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        if budget >= body["max_tokens"]:
            return "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size"  # noqa: E501
        if model in ADAPTIVE_ONLY:
            return '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'  # noqa: E501
    if kind == "disabled" and model in ALWAYS_THINKING:
        return '"thinking.type.disabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'  # noqa: E501
    if choice in _FORCED and kind in ("enabled", "adaptive"):
        return "Thinking may not be enabled when tool_choice forces tool use."
    if choice in _FORCED and model in FORCED_TOOL_REFUSED:
        return "tool_choice: forced tool use is not supported for this model; use tool_choice auto"
    return _replay_problem(body.get("messages") or [], thinking_on=kind == "enabled")


def thinking_block_problem(block: dict[str, Any], where: str) -> str | None:
    """An assistant turn's thinking block: unchanged since the API sent it."""
    if block.get("type") == "redacted_thinking":
        return None if isinstance(block.get("data"), str) else f"{where}.data: Field required"
    text, sig = block.get("thinking"), block.get("signature")
    if not isinstance(text, str) or not isinstance(sig, str):
        return f"{where}: thinking blocks need `thinking` and `signature`"
    if sig != signature(text):
        return f"{where}: Invalid `signature` in `thinking` block"
    return None


def _replay_problem(messages: list[Any], *, thinking_on: bool) -> str | None:
    if not thinking_on:
        return None
    last = next(
        (
            (i, m)
            for i, m in reversed(list(enumerate(messages)))
            if isinstance(m, dict) and m.get("role") == "assistant"
        ),
        None,
    )
    if last is None or not isinstance(last[1].get("content"), list):
        return None
    i, content = last[0], last[1]["content"]
    calls_tool = any(isinstance(b, dict) and b.get("type") == "tool_use" for b in content)
    first = content[0].get("type") if content and isinstance(content[0], dict) else None
    if calls_tool and first not in ("thinking", "redacted_thinking"):
        return f"messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{first}`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns."  # noqa: E501
    return None
