"""A repair call replays the earlier answer in a shape the API accepts, and sends the problems."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from app.llm import LLMRejected, ModelReply, Repair, Usage
from tests.fakes.anthropic_api import FakeAnthropic, request_problem, tool_answer
from tests.llm import ANSWER, MODEL, Timeline, make_model, review_request

PROBLEMS = "findings.0.severity: must be one of critical, major, minor, info\nsummary: required"


def _previous(**changes: Any) -> ModelReply:
    values: dict[str, Any] = {
        "tool_input": {"findings": [{"title": "x", "severity": "urgent"}]},
        "tool_use_id": "toolu_01PrevXyZ",
        "text": "",
        "stop_reason": "tool_use",
        "usage": Usage(1000, 200),
        "model": MODEL,
    }
    return ModelReply(**{**values, **changes})


async def _repair_body(previous: ModelReply) -> dict[str, Any]:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(ANSWER))
    model = make_model(fake, Timeline())

    reply = await model.review(review_request(repair=Repair(previous, PROBLEMS)))

    assert reply.tool_input == ANSWER  # the fake accepted the request: it validates like the API
    [sent] = fake.requests
    body: dict[str, Any] = sent.json
    return body


async def test_tool_answer_is_replayed_and_answered_with_an_error_result() -> None:
    body = await _repair_body(_previous(text="Let me submit."))

    user, assistant, feedback = body["messages"]
    assert user == {"role": "user", "content": "Review this diff:\n+def refund(): ..."}
    assert assistant == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me submit."},
            {
                "type": "tool_use",
                "id": "toolu_01PrevXyZ",
                "name": "submit_review",
                "input": {"findings": [{"title": "x", "severity": "urgent"}]},
            },
        ],
    }
    [result] = feedback["content"]
    assert feedback["role"] == "user"
    assert (result["type"], result["tool_use_id"], result["is_error"]) == (
        "tool_result",
        "toolu_01PrevXyZ",
        True,
    )
    assert result["content"].startswith(PROBLEMS)
    assert "submit_review again" in result["content"]


async def test_truncated_empty_tool_input_is_replayed_as_an_empty_object() -> None:
    body = await _repair_body(_previous(tool_input={}, stop_reason="max_tokens"))

    tool_use = body["messages"][1]["content"][0]
    assert (tool_use["type"], tool_use["input"]) == ("tool_use", {})


async def test_text_only_answer_is_replayed_as_text_with_a_reminder_of_the_tool() -> None:
    previous = _previous(tool_input=None, tool_use_id=None, text="Looks fine to me.")
    body = await _repair_body(previous)

    _, assistant, feedback = body["messages"]
    assert assistant["content"] == [{"type": "text", "text": "Looks fine to me."}]
    [reminder] = feedback["content"]
    assert reminder["type"] == "text"
    assert "must come through the submit_review tool" in reminder["text"]
    assert PROBLEMS in reminder["text"]


async def test_empty_answer_becomes_one_user_turn() -> None:
    previous = _previous(tool_input=None, tool_use_id=None, text="", stop_reason="max_tokens")
    body = await _repair_body(previous)

    [turn] = body["messages"]
    original, reminder = turn["content"]
    assert original == {"type": "text", "text": "Review this diff:\n+def refund(): ..."}
    assert PROBLEMS in reminder["text"]


async def test_the_fake_refuses_a_replay_without_its_tool_result() -> None:
    # The guard the tests above rely on: a broken replay would be a 400, not a pass.
    fake = FakeAnthropic()
    body: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "review"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}],
            },
            {"role": "user", "content": [{"type": "text", "text": "fix it"}]},
        ],
    }
    problem = request_problem(body)
    assert problem is not None
    assert "toolu_1" in problem

    fake.respond_with(lambda _: pytest.fail("an invalid request must not be answered"))
    client = fake.client()
    with pytest.raises(anthropic.BadRequestError, match="tool_result"):
        await client.messages.create(**body)


async def test_replay_with_a_foreign_tool_use_id_is_rejected_by_the_api() -> None:
    fake = FakeAnthropic()
    model = make_model(fake, Timeline())
    previous = _previous(tool_use_id="not a valid id!")

    with pytest.raises(LLMRejected, match=r"invalid request \(400 invalid_request_error\)"):
        await model.review(review_request(repair=Repair(previous, PROBLEMS)))
    assert len(fake.requests) == 1
