"""The adapter streams each call: `started` is set when the response begins, the reply is the
whole message, and an error event in the middle of a stream is classified like its status."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from anthropic import AsyncAnthropic

from app.llm import AnthropicModel, LLMRejected, ModelReply
from tests.fakes.anthropic_api import (
    FakeAnthropic,
    error,
    overloaded_mid_stream,
    tool_answer,
)
from tests.fakes.anthropic_server import AnthropicServer
from tests.llm import ANSWER, MODEL, Timeline, make_model, review_request


async def test_started_is_set_when_the_response_begins_not_when_it_ends() -> None:
    fake = FakeAnthropic()
    fake.enqueue(replace(tool_answer(ANSWER), generation=0.3))
    model = make_model(fake, Timeline())
    started = asyncio.Event()

    call = asyncio.create_task(model.review(review_request(), started=started))
    await asyncio.wait_for(started.wait(), timeout=5)

    assert not call.done()
    assert fake.events == [("arrive", 0), ("begin", 0)]
    reply = await call
    assert fake.events[-1] == ("end", 0)
    assert reply.tool_input == ANSWER
    assert fake.bodies[0]["stream"] is True


async def test_an_attempt_that_fails_before_a_response_begins_sets_started_too() -> None:
    # Nothing was cached, and whoever waits should not wait for the retries.
    fake = FakeAnthropic()
    fake.enqueue(error(400, "invalid_request_error", "tools.0: bad schema"))
    started = asyncio.Event()

    with pytest.raises(LLMRejected):
        await make_model(fake, Timeline()).review(review_request(), started=started)

    assert started.is_set()
    assert ("begin", 0) not in fake.events


async def test_an_overload_in_the_middle_of_a_stream_is_retried_like_a_529() -> None:
    fake = FakeAnthropic()
    fake.enqueue(overloaded_mid_stream(), tool_answer(ANSWER))
    timeline = Timeline()

    reply = await make_model(fake, timeline).review(review_request())

    assert (reply.tool_input, reply.attempts) == (ANSWER, 2)
    assert len(timeline.waits) == 1


async def test_a_mid_stream_overload_that_persists_reads_as_overloaded() -> None:
    fake = FakeAnthropic()
    fake.enqueue(overloaded_mid_stream(), overloaded_mid_stream())

    with pytest.raises(Exception, match=r"overloaded \(529 overloaded_error\)"):
        await make_model(fake, Timeline(), max_attempts=2).review(review_request())


def test_over_a_socket_the_stream_arrives_as_it_is_produced() -> None:
    # Sync: the server's own loop is stopped and closed on exit, outside any running loop.
    with AnthropicServer() as server:
        server.fake.enqueue(replace(tool_answer(ANSWER), generation=0.5))
        reply, done_at_start = asyncio.run(_review_over(server))

    assert not done_at_start  # message_start came through before the rest was written
    assert reply.tool_input == ANSWER
    assert reply.stop_reason == "tool_use"


async def _review_over(server: AnthropicServer) -> tuple[ModelReply, bool]:
    client = AsyncAnthropic(api_key=server.fake.api_key, base_url=server.base_url, max_retries=0)
    model = AnthropicModel(
        client, model=MODEL, max_output_tokens=1024, timeout_seconds=30, max_attempts=1
    )
    started = asyncio.Event()
    call = asyncio.create_task(model.review(review_request(), started=started))
    await asyncio.wait_for(started.wait(), timeout=5)
    done_at_start = call.done()
    reply = await call
    await model.aclose()
    return reply, done_at_start
