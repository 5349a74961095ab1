"""What the adapter sends to the Messages API, and how it reads the answer."""

from __future__ import annotations

from typing import Any

from app.llm import ModelReply, Usage
from tests.fakes.anthropic_api import FakeAnthropic, cut_tool_answer, text_answer, tool_answer
from tests.llm import ANSWER, MODEL, Timeline, make_model, review_request


def _objects(schema: Any) -> list[dict[str, Any]]:
    """Every object schema inside `schema`, however nested."""
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            found.append(schema)
        for value in schema.values():
            found += _objects(value)
    elif isinstance(schema, list):
        for value in schema:
            found += _objects(value)
    return found


async def test_request_shape() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(ANSWER))
    model = make_model(fake, Timeline(), max_output_tokens=5000)

    await model.review(review_request())

    [sent] = fake.requests
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    assert sent.headers["authorization"] == f"Bearer {FakeAnthropic.API_KEY}"
    assert sent.headers["anthropic-version"]
    body = sent.json
    assert (body["model"], body["max_tokens"]) == (MODEL, 5000)
    # API version 2026-10-21 answers 400 to any sampling parameter, even at its default.
    assert sent.headers["anthropic-version"] == "2026-10-21"
    assert not {"temperature", "top_p", "top_k"} & body.keys()
    assert body["system"] == [
        {"type": "text", "text": "You are a senior backend engineer."},
        {
            "type": "text",
            "text": "Checklists: authZ, migrations.",
            "cache_control": {"type": "ephemeral"},
        },
    ]
    assert body["messages"] == [{"role": "user", "content": review_request().user}]
    assert body["tool_choice"] == {
        "type": "tool",
        "name": "submit_review",
        "disable_parallel_tool_use": True,
    }
    [tool] = body["tools"]
    assert (tool["name"], tool["description"], tool["strict"]) == (
        "submit_review",
        "Submit the review.",
        True,
    )
    objects = _objects(tool["input_schema"])
    assert len(objects) == 3  # the review, a finding, its location
    assert all(o["additionalProperties"] is False for o in objects)
    # What strict mode cannot enforce moves into the description rather than being lost.
    title = tool["input_schema"]["$defs"]["Finding"]["properties"]["title"]
    assert "maxLength" not in title
    assert "120" in title["description"]


async def test_tool_answer_becomes_a_reply() -> None:
    fake = FakeAnthropic()
    usage = {
        "input_tokens": 2100,
        "output_tokens": 640,
        "cache_creation_input_tokens": 1800,
        "cache_read_input_tokens": 9000,
    }
    fake.enqueue(
        tool_answer(ANSWER, usage=usage, text="Here is the review.", tool_use_id="toolu_01A")
    )

    reply = await make_model(fake, Timeline()).review(review_request())

    assert reply == ModelReply(
        tool_input=ANSWER,
        tool_use_id="toolu_01A",
        text="Here is the review.",
        stop_reason="tool_use",
        usage=Usage(
            input_tokens=2100, output_tokens=640, cache_read_tokens=9000, cache_write_tokens=1800
        ),
        model=MODEL,
        attempts=1,
        output_limit=4096,
    )
    assert reply.usage.total == 2100 + 640 + 9000 + 1800


async def test_missing_cache_counts_are_zero() -> None:
    fake = FakeAnthropic()
    usage = {"cache_creation_input_tokens": None, "cache_read_input_tokens": None}
    fake.enqueue(tool_answer(ANSWER, usage=usage))

    reply = await make_model(fake, Timeline()).review(review_request())

    assert (reply.usage.cache_read_tokens, reply.usage.cache_write_tokens) == (0, 0)
    assert reply.usage.input_tokens > 0


async def test_text_only_answer_has_no_tool_input() -> None:
    fake = FakeAnthropic()
    fake.enqueue(text_answer("I cannot review this.", stop_reason="refusal"))

    reply = await make_model(fake, Timeline()).review(review_request())

    assert (reply.tool_input, reply.tool_use_id) == (None, None)
    assert (reply.text, reply.stop_reason) == ("I cannot review this.", "refusal")


async def test_a_cut_answer_passes_max_tokens_and_its_complete_parameters_through() -> None:
    fake = FakeAnthropic()
    # Cut while writing the second parameter: streamed, the answer holds the first one whole
    # and what was written of the second (the SDK reads partial JSON); the third never came.
    fake.enqueue(cut_tool_answer({**ANSWER, "notes": "more"}, cut_in="findings"))

    reply = await make_model(fake, Timeline()).review(review_request())

    assert reply.stop_reason == "max_tokens"
    assert reply.tool_input is not None
    assert list(reply.tool_input) == ["summary", "findings"]
    assert reply.tool_input["summary"] == ANSWER["summary"]
    assert reply.tool_input["findings"] != ANSWER["findings"]  # cut short
    assert (reply.output_limit, reply.usage.output_tokens) == (4096, 4096)


async def test_a_request_may_ask_for_a_larger_output_limit() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(ANSWER), tool_answer(ANSWER))
    model = make_model(fake, Timeline(), max_output_tokens=4096)

    default = await model.review(review_request())
    larger = await model.review(review_request(max_output_tokens=8192))

    assert [body["max_tokens"] for body in fake.bodies] == [4096, 8192]
    assert (default.output_limit, larger.output_limit) == (4096, 8192)


async def test_empty_system_blocks_are_not_sent() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(ANSWER))

    await make_model(fake, Timeline()).review(review_request(system=("Persona.", "")))

    assert fake.bodies[0]["system"] == [
        {"type": "text", "text": "Persona.", "cache_control": {"type": "ephemeral"}}
    ]


def test_usage_adds_up() -> None:
    total = Usage(1, 2, 3, 4) + Usage(10, 20, 30, 40)
    assert total == Usage(11, 22, 33, 44)
    assert total.total == 110
    assert sum((Usage(1, 1, 1, 1), Usage(2, 0, 0, 0)), Usage()).total == 6
