"""Building one Messages API request from a `ModelRequest`: the system blocks (the last one
marked `cache_control: ephemeral`, so the stable prefix is cached), the user turn, one strict
tool whose schema went through `anthropic.transform_schema`, and the model's own `max_tokens`,
`thinking` and `tool_choice` (`app.llm.call_options`). No sampling parameters: API version
2026-10-21 rejects them. A repair replays the earlier answer (its thinking blocks unchanged, as
the API requires) and sends the problems back as an error `tool_result`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import anthropic
from anthropic import Omit
from anthropic.types import ContentBlockParam, MessageParam, TextBlockParam, ToolParam
from anthropic.types.message_create_params import MessageCreateParamsBase

from app.llm.call_options import CallOptions, tool_instruction
from app.llm.model import ModelReply, ModelRequest, Repair


@dataclass(frozen=True, slots=True)
class Call:
    """The request-specific part of one Messages call, built once and sent on every attempt."""

    system: list[TextBlockParam]
    messages: list[MessageParam]
    tool: ToolParam
    options: CallOptions


def build_call(request: ModelRequest, options: CallOptions) -> Call:
    # Where the tool is not forced, every user turn ends by asking for it: after the system
    # prompt's cache breakpoint, so the cached prefix stays the same.
    instruction = tool_instruction(request.tool_name) if options.instruct else None
    return Call(
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


def request_params(model: str, call: Call) -> MessageCreateParamsBase:
    """The Messages API request, the same streamed or not."""
    params: MessageCreateParamsBase = {
        "model": model,
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
