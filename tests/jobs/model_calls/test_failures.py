"""The model API failing in each way it can: the review still ends in a plan, never in success
it did not earn, and never with the key in it."""

from __future__ import annotations

import pytest

from app.jobs.model_calls import run_review
from app.jobs.model_result import ReviewResult
from app.review.findings import Source
from app.review.repo_config import ModelConfig, RepoConfig
from tests.fakes.anthropic_api import (
    Answer,
    FakeAnthropic,
    error,
    overloaded,
    rate_limited,
    server_error,
    timeout,
    tool_answer,
)
from tests.jobs.model_calls import (
    LEDGER,
    answer,
    finding,
    ledger_only,
    limits,
    many_files,
    request,
    review,
    small_persona,
)
from tests.llm import Timeline


def _text(result: ReviewResult) -> str:
    return result.plan.model_dump_json()


async def test_429_with_retry_after_waits_that_long_then_completes() -> None:
    fake = FakeAnthropic()
    fake.enqueue(rate_limited(retry_after=7), tool_answer(answer(finding())))
    timeline = Timeline()

    result = await review(fake, timeline=timeline)

    assert result.outcome == "complete"
    assert timeline.waits == [7.0]
    assert result.calls == 2  # HTTP attempts, the 429 included


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (overloaded(), "overloaded"),
        (server_error(), "server error"),
        (timeout(), "timed out"),
    ],
    ids=["529", "500", "timeout"],
)
async def test_a_provider_that_stays_down_leaves_the_rules_and_a_neutral_check(
    failure: Answer, said: str
) -> None:
    fake = FakeAnthropic()
    fake.respond_with(lambda _: failure)

    result = await review(fake, request(ledger_only()))

    assert len(fake.requests) == 3  # max_attempts, then given up
    assert result.outcome == "unavailable"
    assert result.plan.conclusion == "neutral"
    assert said in result.plan.check_title
    assert "the model was unavailable" in result.plan.check_title
    assert [
        (n.path, "the model was unavailable" in n.reason) for n in result.plan.not_reviewed
    ] == [(LEDGER, True)]


async def test_a_provider_down_does_not_hide_a_blocking_rule_finding() -> None:
    fake = FakeAnthropic()
    fake.respond_with(lambda _: overloaded())

    result = await review(fake)

    assert result.plan.conclusion == "failure"
    assert any(f.rule == "hardcoded-secret" for f in result.plan.findings)
    assert "Incomplete: the model was unavailable" in result.plan.summary_body


async def test_400_invalid_request_is_not_retried() -> None:
    fake = FakeAnthropic()
    fake.enqueue(error(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000"))

    result = await review(fake, request(ledger_only()))

    assert len(fake.requests) == 1
    assert result.outcome == "unavailable"
    assert result.plan.conclusion == "neutral"
    assert "the model API refused the request" in result.plan.check_title


async def test_401_bad_key_stops_every_part_and_the_key_is_nowhere() -> None:
    fake = FakeAnthropic()
    wrong_key = "sk-ant-api03-WRONGWRONGWRONGkeyThatMustNeverBePrinted0000-aaaaAA"
    fake.respond_with(
        lambda _: error(401, "authentication_error", f"invalid x-api-key {wrong_key}")
    )
    # Many small parts, one at a time: after the first 401, no other part is attempted.
    result = await review(
        fake,
        request(many_files(12), persona=small_persona()),
        model_options={"secrets": (wrong_key,)},
        call_input_tokens=4_000,
        concurrency=1,
    )

    assert len(fake.requests) == 1
    assert result.outcome == "unavailable"
    assert len(result.plan.not_reviewed) == 12
    assert result.calls == 1  # the refused attempt counts, the parts never sent do not
    assert wrong_key not in _text(result)
    assert fake.api_key not in _text(result)
    assert "authentication" in result.plan.check_title


async def test_a_key_echoed_in_an_error_message_is_redacted() -> None:
    fake = FakeAnthropic()
    fake.respond_with(lambda _: error(400, "invalid_request_error", f"bad key {fake.api_key}"))

    result = await review(fake, request(ledger_only()))

    assert fake.api_key not in _text(result)
    assert result.plan.conclusion == "neutral"


async def test_rules_only_when_there_is_no_model() -> None:
    result = await run_review(
        request(), None, limits(), rules_only_reason="ANTHROPIC_API_KEY is not set"
    )

    assert result.outcome == "rules-only"
    assert result.calls == 0
    assert "Rules only: ANTHROPIC_API_KEY is not set" in result.plan.summary_body
    assert all(f.source is Source.RULE for f in result.plan.findings)
    assert result.plan.conclusion == "failure"


async def test_a_request_refused_on_its_own_does_not_stop_the_other_parts() -> None:
    fake = FakeAnthropic()
    fake.enqueue(error(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000"))
    fake.respond_with(lambda _: tool_answer(answer()))

    result = await review(
        fake,
        request(many_files(12), persona=small_persona()),
        call_input_tokens=4_000,
        concurrency=1,
    )

    assert len(fake.requests) > 2  # every part was asked for
    assert result.outcome == "partial"
    assert "prompt is too long" in result.plan.check_title


async def test_every_rule_finding_dismissed_and_the_model_down_is_neutral_not_success() -> None:
    # Issue 14: the model part never ran; dismissals must not turn that into a pass.
    found = await run_review(request(), None, limits())
    ids = {f.id: "lead: accepted" for f in found.plan.findings}
    assert found.plan.conclusion == "failure"
    fake = FakeAnthropic()
    fake.respond_with(lambda _: overloaded())

    result = await review(fake, request(dismissed=ids))

    assert set(result.plan.dismissed) == set(ids)
    assert result.plan.blocking == 0
    assert result.plan.conclusion == "neutral"
    assert result.plan.check_title.startswith("Review incomplete: the model was unavailable")


async def test_an_advisory_model_that_is_down_leaves_the_rules_to_decide_and_says_so() -> None:
    fake = FakeAnthropic()
    fake.respond_with(lambda _: overloaded())
    advisory = RepoConfig(model=ModelConfig(blocking=False))

    result = await review(fake, request(ledger_only(), config=advisory))

    assert result.outcome == "unavailable"
    assert result.plan.conclusion == "success"
    assert "The model did not review: the model was unavailable" in result.plan.summary_body


async def test_with_no_model_configured_the_rules_decide_alone_as_before() -> None:
    # The operator's choice (no key): rules-only, success possible, said at the top.
    result = await run_review(
        request(ledger_only()), None, limits(), rules_only_reason="ANTHROPIC_API_KEY is not set"
    )

    assert (result.outcome, result.plan.conclusion) == ("rules-only", "success")
    assert "Rules only: ANTHROPIC_API_KEY is not set" in result.plan.summary_body


UNKNOWN = "the persona's model 'claude-foo' is not a model backend-review knows on anthropic"


async def test_an_unknown_persona_model_is_never_success() -> None:
    # Issue 14: the model part did not run (the model is not in the capability table).
    found = await run_review(request(), None, limits())
    ids = {f.id: "lead: accepted" for f in found.plan.findings}

    result = await run_review(request(dismissed=ids), None, limits(), model_unavailable=UNKNOWN)

    assert (result.outcome, result.calls, result.model) == ("unavailable", 0, None)
    assert result.incomplete == UNKNOWN
    assert result.plan.blocking == 0
    assert result.plan.conclusion == "neutral"
    assert result.plan.check_title == f"Review incomplete: {UNKNOWN}"


async def test_an_unknown_persona_model_with_an_advisory_model_says_so() -> None:
    advisory = RepoConfig(model=ModelConfig(blocking=False))

    result = await run_review(
        request(ledger_only(), config=advisory), None, limits(), model_unavailable=UNKNOWN
    )

    assert result.plan.conclusion == "success"
    assert f"The model did not review: {UNKNOWN}" in result.plan.summary_body
