"""The per-model part of a Messages call: `max_tokens`, `thinking` and `tool_choice`, in one place.

Chosen from the model's row in `app.llm.capabilities` and the configured thinking budget:

- A model that thinks with a budget (`thinking: budget`) gets `thinking: {type: enabled,
  budget_tokens: N}`, one that thinks adaptively gets `{type: adaptive}`; either way
  `tool_choice` is `auto` (thinking refuses a forced tool) and the user turn ends with an
  instruction to answer through the tool (a text-only answer gets the repair turn).
  `max_tokens` is the answer's limit plus the budget, within the model's output limit, so
  the thinking never eats the room the answer was given.
- With the budget at 0, or no room for it beside the answer, the tool is forced where the
  model allows it (`thinking: disabled` on adaptive models, whose thinking may be on by
  default: Bedrock refuses a forced tool beside it), else `auto` with the instruction.
"""

from __future__ import annotations

from dataclasses import dataclass

from anthropic import Omit, omit
from anthropic.types import ThinkingConfigParam, ToolChoiceParam

from app.llm.capabilities import MIN_THINKING_BUDGET, ModelSpec


@dataclass(frozen=True, slots=True)
class CallOptions:
    max_tokens: int
    thinking: ThinkingConfigParam | Omit
    tool_choice: ToolChoiceParam
    instruct: bool  # add the "answer through the tool" instruction to the user turn


def call_options(
    spec: ModelSpec, *, tool_name: str, max_output_tokens: int, thinking_budget: int
) -> CallOptions:
    """What to send to `spec`'s model for an answer of up to `max_output_tokens`."""
    answer = min(max_output_tokens, spec.max_output_tokens)
    room = spec.max_output_tokens - answer
    budget = min(thinking_budget, room)
    auto: ToolChoiceParam = {"type": "auto", "disable_parallel_tool_use": True}
    if spec.thinking == "budget" and budget >= MIN_THINKING_BUDGET:
        return CallOptions(
            max_tokens=answer + budget,
            thinking={"type": "enabled", "budget_tokens": budget},
            tool_choice=auto,
            instruct=True,
        )
    if spec.thinking == "adaptive" and thinking_budget > 0:
        return CallOptions(
            max_tokens=answer + budget,
            thinking={"type": "adaptive"},
            tool_choice=auto,
            instruct=True,
        )
    if spec.forced_tool_choice:
        return CallOptions(
            max_tokens=answer,
            thinking={"type": "disabled"} if spec.thinking == "adaptive" else omit,
            tool_choice={"type": "tool", "name": tool_name, "disable_parallel_tool_use": True},
            instruct=False,
        )
    # Thinking is always on here: leave it room, as above.
    return CallOptions(max_tokens=answer + budget, thinking=omit, tool_choice=auto, instruct=True)


def tool_instruction(tool_name: str) -> str:
    """The last words of the user turn when the tool is not forced."""
    return (
        f"Answer only by calling the {tool_name} tool, once, with your complete review. "
        "Do not answer in text."
    )
