"""A review's model part waits what the server asks, within the review's deadline, or gives the
part up at once saying what was asked; an overloaded server is given seconds, not a blink."""

from __future__ import annotations

from tests.fakes.anthropic_api import FakeAnthropic, overloaded, rate_limited, tool_answer
from tests.jobs.model_calls import LEDGER, answer, finding, ledger_only, request, review
from tests.llm import Timeline


async def test_a_429_asking_90_s_is_waited_in_full_within_the_deadline() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(rate_limited(retry_after=90), tool_answer(answer(finding(path=LEDGER))))

    result = await review(fake, request(ledger_only()), timeline=timeline, deadline_seconds=600)

    assert timeline.waits == [90.0]
    assert (result.outcome, result.calls) == ("complete", 2)


async def test_a_429_asking_past_the_deadline_gives_the_part_up_with_what_was_asked() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(rate_limited(retry_after=90), tool_answer(answer()))

    result = await review(fake, request(ledger_only()), timeline=timeline, deadline_seconds=60)

    assert timeline.waits == []  # not 30 s and 60 s: a shorter wait earns another 429
    assert len(fake.requests) == 1
    assert result.outcome == "unavailable"
    assert result.plan.conclusion == "neutral"
    assert (
        "the model was unavailable: rate limited (429 rate_limit_error) after 1 attempt; "
        "the server asked to wait 90 s, past this review's deadline"
    ) in result.plan.check_title
    [skipped] = result.plan.not_reviewed
    assert "the server asked to wait 90 s" in skipped.reason


async def test_an_overloaded_model_is_given_seconds_before_the_retry() -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(overloaded(), tool_answer(answer()))

    result = await review(fake, request(ledger_only()), timeline=timeline)

    [wait] = timeline.waits
    assert 2.5 <= wait <= 5.0  # 5 s with equal jitter; it was 0.5-1 s
    assert result.outcome == "complete"
