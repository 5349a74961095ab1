"""The fake Messages API's prompt cache and its streamed answers behave as the real API's do."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest

from tests.fakes.anthropic_api import (
    BASE_URL,
    FakeAnthropic,
    overloaded_mid_stream,
    text_answer,
    tool_answer,
)
from tests.fakes.anthropic_cache import (
    TTL_SECONDS,
    PromptCache,
    estimate_tokens,
    minimum_cacheable_tokens,
)

LONG = "Review the diff for correctness, security and data safety. " * 200  # ≈ 3,000 tokens
TOOL = {
    "name": "submit_review",
    "input_schema": {"type": "object", "properties": {}, "additionalProperties": False},
    "strict": True,
}


def _body(system: str = LONG, user: str = "Part 1 of the diff.", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": user}],
        "tools": [TOOL],
        "tool_choice": {"type": "tool", "name": "submit_review"},
    }
    return {**body, **changes}


async def _post(fake: FakeAnthropic, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"anthropic-version": "2026-10-21", "x-api-key": fake.api_key}
    async with fake.http_client() as http:
        response = await http.post(f"{BASE_URL}/v1/messages", json=body, headers=headers)
    assert response.status_code == 200, response.text
    usage: dict[str, Any] = response.json()["usage"]
    return usage


def _cache(usage: dict[str, Any]) -> tuple[int, int]:
    return usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"]


async def test_an_entry_is_written_when_a_response_begins_and_read_after() -> None:
    fake = FakeAnthropic(measure_usage=True)
    fake.respond_with(lambda _: tool_answer({}))

    first = await _post(fake, _body(user="Part 1 of the diff."))
    second = await _post(fake, _body(user="Part 2, another file."))

    written, read = _cache(first)
    assert written > 1024
    assert read == 0
    assert _cache(second) == (0, written)
    # What follows the breakpoint (the user turn) is never cached: it is the input left.
    assert 0 < second["input_tokens"] < 50


async def test_requests_that_arrive_before_the_first_response_begins_all_write() -> None:
    fake = FakeAnthropic(measure_usage=True)
    # Each response begins 50 ms after its request arrived: the three arrive before any begins.
    fake.respond_with(lambda _: replace(tool_answer({}), delay=0.05))

    usages = await asyncio.gather(*(_post(fake, _body(user=f"Part {i}.")) for i in range(3)))

    assert all(_cache(u)[0] > 1024 and _cache(u)[1] == 0 for u in usages)


async def test_a_prefix_shorter_than_the_models_minimum_is_not_cached() -> None:
    fake = FakeAnthropic(measure_usage=True)
    fake.respond_with(lambda _: tool_answer({}))
    short = "Review backend changes."

    await _post(fake, _body(system=short))
    again = await _post(fake, _body(system=short))

    assert _cache(again) == (0, 0)  # silently: no error, both counters 0
    assert len(fake.cache) == 0


@pytest.mark.parametrize(
    ("model", "minimum"),
    [
        ("claude-sonnet-4-6", 1024),
        ("claude-opus-4-1-20250805", 1024),
        ("claude-opus-4-6", 4096),
        ("claude-haiku-4-5-20251001", 4096),
        ("anthropic.claude-haiku-4-5-20251001-v1:0", 4096),  # Bedrock
        ("claude-haiku-4-5@20251001", 4096),  # Vertex
        ("claude-opus-4-7", 2048),
        ("global.anthropic.claude-opus-4-7", 2048),  # Bedrock, an inference profile
        ("claude-not-in-the-table", 1024),
    ],
)
def test_the_minimum_cacheable_prefix_is_the_models(model: str, minimum: int) -> None:
    assert minimum_cacheable_tokens(model) == minimum


async def test_the_same_prefix_long_enough_for_sonnet_is_too_short_for_haiku_4_5() -> None:
    fake = FakeAnthropic(measure_usage=True)
    fake.respond_with(lambda _: tool_answer({}))
    body = _body()
    assert 1024 < estimate_tokens(body["system"][0]["text"]) < 4096

    sonnet = await _post(fake, body)
    haiku = await _post(fake, body | {"model": "claude-haiku-4-5-20251001"})

    assert _cache(sonnet)[0] > 0
    assert _cache(haiku) == (0, 0)


async def test_another_tool_definition_is_another_prefix() -> None:
    fake = FakeAnthropic(measure_usage=True)
    fake.respond_with(lambda _: tool_answer({}))
    other_tool = {**TOOL, "description": "Submit the review (with criteria)."}

    await _post(fake, _body())
    other = await _post(fake, _body(tools=[other_tool]))

    assert _cache(other)[1] == 0  # tools come first in the prefix: nothing after them matches


def test_an_entry_lives_five_minutes_from_its_last_use() -> None:
    now = [0.0]
    cache = PromptCache(clock=lambda: now[0])
    body = _body()

    assert cache.begin(cache.arrive(body)).cache_creation_input_tokens > 0
    now[0] += TTL_SECONDS - 1
    assert cache.begin(cache.arrive(body)).cache_read_input_tokens > 0  # refreshed by the read
    now[0] += TTL_SECONDS - 1
    assert cache.begin(cache.arrive(body)).cache_read_input_tokens > 0
    now[0] += TTL_SECONDS + 1
    expired = cache.begin(cache.arrive(body))
    assert (expired.cache_read_input_tokens, expired.cache_creation_input_tokens > 0) == (0, True)


async def test_without_measure_usage_the_scripted_usage_is_reported() -> None:
    fake = FakeAnthropic()
    fake.respond_with(lambda _: tool_answer({}, usage={"input_tokens": 7}))

    await _post(fake, _body())
    second = await _post(fake, _body())

    assert (second["input_tokens"], *_cache(second)) == (7, 0, 0)
    assert fake.cache_uses[1].cache_read_input_tokens > 0  # the cache is still modelled


# --- streaming -------------------------------------------------------------------------------


def _events(raw: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for chunk in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in chunk.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


async def test_a_streamed_answer_is_the_apis_events_in_order() -> None:
    fake = FakeAnthropic()
    tool_input = {"findings": [{"title": "x" * 150}], "summary": {"summary": "ok"}}
    fake.enqueue(tool_answer(tool_input, text="Reviewing."))
    headers = {"anthropic-version": "2026-10-21", "x-api-key": fake.api_key}

    async with fake.http_client() as http:
        response = await http.post(
            f"{BASE_URL}/v1/messages", json=_body(stream=True), headers=headers
        )

    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    names = [name for name, _ in events]
    assert names[:2] == ["message_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    assert all(name == data["type"] for name, data in events)
    start = events[0][1]["message"]
    assert (start["content"], start["stop_reason"]) == ([], None)
    assert {"input_tokens", "cache_read_input_tokens"} <= start["usage"].keys()
    blocks = [d for n, d in events if n == "content_block_start"]
    assert [b["content_block"]["type"] for b in blocks] == ["text", "tool_use"]
    assert blocks[1]["content_block"]["input"] == {}
    pieces = [
        d["delta"]["partial_json"]
        for n, d in events
        if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta"
    ]
    assert len(pieces) > 1
    assert json.loads("".join(pieces)) == tool_input
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


async def test_stream_must_be_a_boolean() -> None:
    fake = FakeAnthropic()
    fake.enqueue(text_answer("unused"))
    headers = {"anthropic-version": "2026-10-21", "x-api-key": fake.api_key}
    async with fake.http_client() as http:
        response = await http.post(
            f"{BASE_URL}/v1/messages", json=_body(stream="yes"), headers=headers
        )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "stream: Input should be a valid boolean"


async def test_a_stream_that_has_begun_can_still_end_in_an_error_event() -> None:
    fake = FakeAnthropic()
    fake.enqueue(overloaded_mid_stream())
    headers = {"anthropic-version": "2026-10-21", "x-api-key": fake.api_key}
    async with fake.http_client() as http:
        response = await http.post(
            f"{BASE_URL}/v1/messages", json=_body(stream=True), headers=headers
        )

    assert response.status_code == 200
    names = [name for name, _ in _events(response.text)]
    assert names == ["message_start", "ping", "error"]
