"""Our retry policy: what is retried, how long we wait, and when we give up."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from anthropic import AsyncAnthropic

from app.llm import AnthropicModel, LLMUnavailable
from tests.fakes.anthropic_api import (
    BASE_URL,
    FakeAnthropic,
    connection_error,
    error,
    hang,
    overloaded,
    rate_limited,
    server_error,
    timeout,
    tool_answer,
)
from tests.llm import ANSWER, MODEL, Timeline, make_model, review_request


async def test_rate_limit_waits_what_retry_after_asks_then_succeeds() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(rate_limited(retry_after=7), tool_answer(ANSWER))

    reply = await make_model(fake, timeline).review(review_request())

    assert timeline.waits == [7.0]
    assert (reply.tool_input, reply.attempts, len(fake.requests)) == (ANSWER, 2, 2)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500", "retry-after": "2"}, 1.5),
        ({"retry-after": "2.5"}, 2.5),
        # An HTTP date counts from the response's own Date header, not our clock.
        (
            {
                "date": format_datetime(datetime(2026, 11, 22, 12, 0, tzinfo=UTC), usegmt=True),
                "retry-after": format_datetime(
                    datetime(2026, 11, 22, 12, 0, 12, tzinfo=UTC), usegmt=True
                ),
            },
            12.0,
        ),
    ],
)
async def test_retry_after_forms(headers: dict[str, str], expected: float) -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(error(429, "rate_limit_error", "slow down", headers=headers), tool_answer(ANSWER))

    await make_model(fake, timeline).review(review_request())

    assert timeline.waits == [pytest.approx(expected)]


async def test_a_429_asking_90_s_is_waited_in_full_when_the_deadline_allows() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(rate_limited(retry_after=90), rate_limited(retry_after=90), tool_answer(ANSWER))
    model = make_model(fake, timeline)  # max_wait_seconds: the default, 120 s

    reply = await model.review(review_request(), deadline=timeline.now + 600)

    assert timeline.waits == [90.0, 90.0]  # never sooner than asked, never shortened
    assert (reply.tool_input, reply.attempts) == (ANSWER, 3)


async def test_a_429_asking_past_the_deadline_gives_up_at_once_saying_what_was_asked() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(rate_limited(retry_after=90), tool_answer(ANSWER))
    model = make_model(fake, timeline, max_wait_seconds=120)

    with pytest.raises(LLMUnavailable) as caught:
        # 90 s plus a minimum attempt (10 s) does not fit in the 95 s left.
        await model.review(review_request(), deadline=timeline.now + 95)

    assert timeline.waits == []
    assert len(fake.requests) == 1
    assert caught.value.reason.startswith(
        "rate limited (429 rate_limit_error) after 1 attempt; "
        "the server asked to wait 90 s, past this review's deadline: This request would"
    )


async def test_a_wait_that_just_fits_before_the_deadline_is_taken() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(rate_limited(retry_after=90), tool_answer(ANSWER))

    await make_model(fake, timeline).review(review_request(), deadline=timeline.now + 100)

    assert timeline.waits == [90.0]


async def test_a_wait_longer_than_max_wait_is_not_shortened_but_given_up() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(rate_limited(retry_after=3600), tool_answer(ANSWER))

    with pytest.raises(LLMUnavailable) as caught:
        await make_model(fake, timeline, max_wait_seconds=30).review(review_request())

    assert timeline.waits == []
    assert len(fake.requests) == 1
    assert "the server asked to wait 3600 s, longer than the 30 s we wait for one retry" in (
        caught.value.reason
    )


async def test_retry_after_ms_and_a_date_in_the_past() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    past = format_datetime(datetime(2026, 11, 22, 11, 59, tzinfo=UTC), usegmt=True)
    now = format_datetime(datetime(2026, 11, 22, 12, 0, tzinfo=UTC), usegmt=True)
    fake.enqueue(
        error(429, "rate_limit_error", "slow down", headers={"retry-after-ms": "90000"}),
        error(429, "rate_limit_error", "slow down", headers={"date": now, "retry-after": past}),
        tool_answer(ANSWER),
    )

    await make_model(fake, timeline).review(review_request(), deadline=timeline.now + 600)

    assert timeline.waits == [90.0, 0.0]


async def test_an_overloaded_server_asking_a_wait_is_also_heard() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(error(529, "overloaded_error", "Overloaded", retry_after=20), tool_answer(ANSWER))

    await make_model(fake, timeline).review(review_request())

    assert timeline.waits == [20.0]


async def test_no_call_is_started_after_the_deadline() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(tool_answer(ANSWER))

    with pytest.raises(LLMUnavailable, match="deadline"):
        await make_model(fake, timeline).review(review_request(), deadline=timeline.now - 1)

    assert fake.requests == []


async def test_overloaded_is_retried_with_backoff_in_seconds_then_reported() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(overloaded(), overloaded(), overloaded(), tool_answer(ANSWER))

    with pytest.raises(LLMUnavailable) as caught:
        await make_model(fake, timeline, max_attempts=3).review(review_request())

    assert type(caught.value) is LLMUnavailable
    assert caught.value.reason == "overloaded (529 overloaded_error) after 3 attempts: Overloaded"
    assert len(fake.requests) == 3
    first, second = timeline.waits
    assert 2.5 <= first <= 5.0  # 5 s, equal jitter: half to all of it
    assert 5.0 <= second <= 10.0  # 10 s, jittered


async def test_the_overloaded_backoff_doubles_is_jittered_and_capped() -> None:
    waits: list[list[float]] = []
    for _ in range(20):
        fake, timeline = FakeAnthropic(), Timeline()
        fake.enqueue(*[overloaded()] * 6, tool_answer(ANSWER))
        model = make_model(fake, timeline, max_attempts=7, max_wait_seconds=60)
        await model.review(review_request())
        waits.append(timeline.waits)

    for run in waits:
        steps = [5.0, 10.0, 20.0, 40.0, 60.0, 60.0]  # doubling from 5 s, capped at max_wait
        assert all(step / 2 <= wait <= step for wait, step in zip(run, steps, strict=True))
    assert len({run[0] for run in waits}) > 1  # jittered: parts failing together spread out


async def test_server_errors_without_retry_after_back_off_in_seconds() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(server_error(), tool_answer(ANSWER))

    await make_model(fake, timeline).review(review_request())

    [wait] = timeline.waits
    assert 2.5 <= wait <= 5.0


async def test_a_backoff_is_never_waited_past_the_deadline() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(overloaded(), tool_answer(ANSWER))

    with pytest.raises(LLMUnavailable) as caught:
        # At least 2.5 s of backoff plus a 10 s attempt do not fit in the 12 s left.
        await make_model(fake, timeline).review(review_request(), deadline=timeline.now + 12)

    assert timeline.waits == []
    assert caught.value.reason == (
        "overloaded (529 overloaded_error) after 1 attempt; the deadline leaves no time to "
        "retry: Overloaded"
    )


async def test_server_error_is_retried() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(server_error(), error(503, "api_error", "unavailable"), tool_answer(ANSWER))

    reply = await make_model(fake, timeline).review(review_request())

    assert (reply.tool_input, reply.attempts) == (ANSWER, 3)


async def test_timeouts_are_retried_then_reported() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(timeout(), timeout(), timeout())

    with pytest.raises(LLMUnavailable) as caught:
        await make_model(fake, timeline, timeout_seconds=60).review(review_request())

    assert caught.value.reason == "timed out (60s timeout) after 3 attempts"
    assert len(fake.requests) == 3


async def test_a_lost_connection_is_retried() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(connection_error(), tool_answer(ANSWER))

    reply = await make_model(fake, timeline).review(review_request())

    assert reply.attempts == 2
    [wait] = timeline.waits
    assert 0.5 <= wait <= 1.0  # a lost connection is tried again soon


async def test_a_hanging_server_is_cut_off_at_the_deadline() -> None:
    fake = FakeAnthropic()
    fake.enqueue(hang(3600))
    model = AnthropicModel(
        fake.client(), model=MODEL, max_output_tokens=1024,
        timeout_seconds=0.05, max_attempts=3,
    )  # fmt: skip
    started = time.monotonic()

    with pytest.raises(LLMUnavailable, match="no answer within"):
        await model.review(review_request(), deadline=started + 0.3)

    assert time.monotonic() - started < 2
    assert len(fake.requests) == 1


@pytest.mark.slow
async def test_a_hanging_server_is_cut_off_per_attempt_without_a_deadline() -> None:
    # The bound is the timeout plus a 5 s grace that lets the SDK's own timeout speak first.
    fake = FakeAnthropic()
    fake.enqueue(hang(3600))
    model = AnthropicModel(
        fake.client(), model=MODEL, max_output_tokens=1024,
        timeout_seconds=0.05, max_attempts=1,
    )  # fmt: skip
    started = time.monotonic()

    with pytest.raises(LLMUnavailable, match=r"no answer within 5\.0s after 1 attempt"):
        await model.review(review_request())

    assert time.monotonic() - started < 8


async def test_sdk_retries_are_switched_off_whatever_the_client_says() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(rate_limited(retry_after=1), rate_limited(retry_after=1), tool_answer(ANSWER))
    client = AsyncAnthropic(
        api_key=fake.api_key, base_url=BASE_URL, max_retries=2, http_client=fake.http_client()
    )
    model = AnthropicModel(
        client, model=MODEL, max_output_tokens=1024, timeout_seconds=60,
        max_attempts=1, sleep=timeline.sleep, clock=timeline.clock,
    )  # fmt: skip

    with pytest.raises(LLMUnavailable, match="after 1 attempt"):
        await model.review(review_request())

    assert len(fake.requests) == 1


async def test_each_retry_is_logged_without_key_or_prompt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(overloaded(), rate_limited(retry_after=4), tool_answer(ANSWER))
    # Only our logger: the SDK's own DEBUG records carry the whole request body.
    caplog.set_level(logging.DEBUG, logger="app.llm")

    await make_model(fake, timeline).review(review_request())

    retries = [r for r in caplog.records if r.name == "app.llm.anthropic_model"]
    assert [r.levelno for r in retries] == [logging.WARNING, logging.WARNING]
    assert "529" in retries[0].getMessage()
    assert "attempt 2 of 3" in retries[0].getMessage()
    assert "429" in retries[1].getMessage()
    assert "4.0s" in retries[1].getMessage()
    assert fake.api_key not in caplog.text
    assert not any("def refund" in r.getMessage() for r in retries)
