"""The request shape each model gets (thinking, tool choice, max_tokens), against the fake API,
and the fake's own rules for thinking, which the real API enforces the same way."""

from __future__ import annotations

from typing import Any

import pytest

from app.llm import LLMRejected, Repair
from app.llm.capabilities import MODELS, lookup
from tests.fakes.anthropic_api import FakeAnthropic, request_problem, text_answer, tool_answer
from tests.fakes.anthropic_thinking import thinking_block
from tests.llm import ANSWER, Timeline, make_model, review_request

AUTO = {"type": "auto", "disable_parallel_tool_use": True}
FORCED = {"type": "tool", "name": "submit_review", "disable_parallel_tool_use": True}
INSTRUCTION = (
    "Answer only by calling the submit_review tool, once, with your complete review. "
    "Do not answer in text."
)


async def _sent(model_id: str, budget: int, max_output_tokens: int = 8192) -> dict[str, Any]:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(ANSWER))
    model = make_model(
        fake, Timeline(), model=model_id, max_output_tokens=max_output_tokens,
        thinking_budget=budget,
    )  # fmt: skip
    reply = await model.review(review_request())
    assert reply.tool_input == ANSWER  # the fake accepted the request
    [request] = fake.requests
    body: dict[str, Any] = request.json
    return body


@pytest.mark.parametrize(
    ("model_id", "budget", "thinking", "tool_choice", "max_tokens"),
    [
        # Thinks with a budget: auto, and room for the budget beside the answer.
        ("claude-sonnet-4-6", 4000, {"type": "enabled", "budget_tokens": 4000}, AUTO, 12192),
        ("claude-haiku-4-5", 2048, {"type": "enabled", "budget_tokens": 2048}, AUTO, 10240),
        # Only adaptive thinking: a budget is a 400 there.
        ("claude-opus-4-7", 4000, {"type": "adaptive"}, AUTO, 12192),
        ("claude-opus-4-6", 4000, {"type": "adaptive"}, AUTO, 12192),
        # Thinking off: the tool is forced (adaptive models say so, Bedrock needs it).
        ("claude-sonnet-4-6", 0, None, FORCED, 8192),
        ("claude-opus-5", 0, {"type": "disabled"}, FORCED, 8192),
        # Cannot force a tool nor stop thinking: auto, with or without a budget.
        ("claude-opus-5-5", 0, None, AUTO, 8192),
        ("claude-sonnet-5-5", 4000, {"type": "adaptive"}, AUTO, 12192),
    ],
)
async def test_each_model_gets_its_own_shape(
    model_id: str, budget: int, thinking: Any, tool_choice: Any, max_tokens: int
) -> None:
    body = await _sent(model_id, budget)

    assert body.get("thinking") == thinking
    assert body["tool_choice"] == tool_choice
    assert body["max_tokens"] == max_tokens
    assert body["tools"][0]["strict"] is True
    content = body["messages"][0]["content"]
    if tool_choice == AUTO:
        # Not forced: the user turn ends by asking for the tool (after the cached system prompt).
        assert content == [
            {"type": "text", "text": review_request().user},
            {"type": "text", "text": INSTRUCTION},
        ]
    else:
        assert content == review_request().user


@pytest.mark.parametrize("budget", [0, 1024, 4000, 60_000])
@pytest.mark.parametrize("model_id", [m.api_ids[0] for m in MODELS if m.api_ids])
async def test_every_model_in_the_table_is_sent_what_the_api_accepts(
    model_id: str, budget: int
) -> None:
    body = await _sent(model_id, budget, max_output_tokens=16384)

    spec = lookup("anthropic", model_id)
    assert spec is not None
    assert body["max_tokens"] <= spec.max_output_tokens
    budget_sent = (body.get("thinking") or {}).get("budget_tokens")
    if budget_sent is not None:
        assert 1024 <= budget_sent < body["max_tokens"]
        assert body["max_tokens"] - budget_sent >= 16384  # the answer keeps its room


async def test_a_budget_is_cut_to_fit_the_models_output_limit() -> None:
    body = await _sent("claude-haiku-4-5", 60_000, max_output_tokens=16384)

    assert body["max_tokens"] == 64_000
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 64_000 - 16384}


async def test_a_repair_replays_the_thinking_unchanged() -> None:
    fake = FakeAnthropic()
    thought = thinking_block("The refund path skips the permission check; cite lines 12-30.")
    fake.enqueue(tool_answer({"summary": 3}, thinking=thought, tool_use_id="toolu_01T"))
    fake.enqueue(tool_answer(ANSWER))
    model = make_model(fake, Timeline(), thinking_budget=4000)

    first = await model.review(review_request())
    assert first.thinking == (thought,)
    await model.review(review_request(repair=Repair(previous=first, problems="summary: text")))

    body = fake.requests[1].json
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 4000}
    _user, assistant, feedback = body["messages"]
    assert assistant["content"][0] == thought  # first, and byte for byte what came back
    assert assistant["content"][1]["type"] == "tool_use"
    assert feedback["content"][0]["type"] == "tool_result"
    assert feedback["content"][-1] == {"type": "text", "text": INSTRUCTION}


async def test_a_redacted_thinking_block_is_replayed_too() -> None:
    fake = FakeAnthropic()
    redacted = {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"}
    fake.enqueue(tool_answer({"summary": 3}, thinking=redacted), tool_answer(ANSWER))
    model = make_model(fake, Timeline(), thinking_budget=4000)

    first = await model.review(review_request())
    await model.review(review_request(repair=Repair(previous=first, problems="summary: text")))

    assert fake.requests[1].json["messages"][1]["content"][0] == redacted


async def test_a_text_answer_with_thinking_is_repaired_with_its_thinking() -> None:
    fake = FakeAnthropic()
    thought = thinking_block("I should answer in prose.")
    text = text_answer("The endpoint lacks a permission check.")
    text.body["content"].insert(0, thought)
    fake.enqueue(text, tool_answer(ANSWER))
    model = make_model(fake, Timeline(), thinking_budget=4000)

    first = await model.review(review_request())
    reply = await model.review(
        review_request(repair=Repair(previous=first, problems="no call to submit_review"))
    )

    assert reply.tool_input == ANSWER
    assistant = fake.requests[1].json["messages"][1]["content"]
    assert [b["type"] for b in assistant] == ["thinking", "text"]


# --- the fake's rules, as the real API's -------------------------------------------------------


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 8192,
        "messages": [{"role": "user", "content": "Review this."}],
        "tools": [{"name": "submit_review", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "auto"},
        "thinking": {"type": "enabled", "budget_tokens": 4000},
    }
    return {**body, **changes}


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"tool_choice": {"type": "tool", "name": "submit_review"}}, "Thinking may not be enabled"),
        ({"tool_choice": {"type": "any"}}, "Thinking may not be enabled when tool_choice forces"),
        (
            {"thinking": {"type": "adaptive"}, "tool_choice": {"type": "any"}},
            "Thinking may not be enabled",
        ),
        ({"thinking": {"type": "enabled", "budget_tokens": 1023}}, "greater than or equal to 1024"),
        ({"thinking": {"type": "enabled"}}, "greater than or equal to 1024"),
        ({"max_tokens": 4000}, "`max_tokens` must be greater than `thinking.budget_tokens`"),
        ({"model": "claude-opus-4-7"}, '"thinking.type.enabled" is not supported for this model'),
        ({"thinking": {"type": "sometimes"}}, "thinking.type: Input tag does not match"),
        (
            {"model": "claude-opus-5-5", "thinking": {"type": "disabled"}},
            '"thinking.type.disabled" is not supported',
        ),
        (
            {"model": "claude-opus-5-5", "thinking": None, "tool_choice": {"type": "any"}},
            "forced tool use is not supported for this model",
        ),
    ],
)
def test_the_fake_refuses_what_the_api_refuses(changes: dict[str, Any], says: str) -> None:
    body = {k: v for k, v in _body(**changes).items() if v is not None}
    problem = request_problem(body)
    assert problem is not None
    assert says in problem


def test_the_fake_accepts_thinking_with_auto_and_forced_without_thinking() -> None:
    assert request_problem(_body()) is None
    forced = {"type": "tool", "name": "submit_review"}
    assert request_problem(_body(thinking={"type": "disabled"}, tool_choice=forced)) is None
    without = {k: v for k, v in _body(tool_choice=forced).items() if k != "thinking"}
    assert request_problem(without) is None


def _repair_body(first_block: dict[str, Any] | None) -> dict[str, Any]:
    call = {"type": "tool_use", "id": "toolu_01A", "name": "submit_review", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "again"}
    return _body(
        messages=[
            {"role": "user", "content": "Review this."},
            {"role": "assistant", "content": [b for b in (first_block, call) if b]},
            {"role": "user", "content": [result]},
        ]
    )


def test_the_fake_wants_the_thinking_back_unchanged() -> None:
    thought = thinking_block("Lines 12-30 lack the check.")
    assert request_problem(_repair_body(thought)) is None
    changed = {**thought, "thinking": "Lines 12-31 lack the check."}
    assert "Invalid `signature`" in (request_problem(_repair_body(changed)) or "")
    missing = request_problem(_repair_body(None)) or ""
    assert "must start with a thinking block" in missing
    # Without thinking, an assistant turn needs none.
    assert request_problem({**_repair_body(None), "thinking": {"type": "disabled"}}) is None


async def test_a_request_the_fake_refuses_is_a_rejection_not_a_retry() -> None:
    fake = FakeAnthropic()
    model = make_model(fake, Timeline(), model="claude-opus-5-5")
    # Forced on purpose, as a model without the table's knowledge would send it.
    model.spec = lookup("anthropic", "claude-sonnet-4-6")  # type: ignore[assignment]

    with pytest.raises(LLMRejected, match="forced tool use is not supported"):
        await model.review(review_request())
    assert len(fake.requests) == 1


async def test_an_answer_cut_off_while_thinking_is_asked_again_in_one_turn() -> None:
    fake = FakeAnthropic()
    cut = text_answer("", stop_reason="max_tokens")
    cut.body["content"].insert(0, thinking_block("The first file adds a route; the second"))
    fake.enqueue(cut, tool_answer(ANSWER))
    model = make_model(fake, Timeline(), thinking_budget=4000)

    first = await model.review(review_request())
    await model.review(review_request(repair=Repair(previous=first, problems="cut off")))

    [turn] = fake.requests[1].json["messages"]  # no assistant turn of thinking alone
    assert turn["role"] == "user"
    assert [b["type"] for b in turn["content"]] == ["text", "text"]
