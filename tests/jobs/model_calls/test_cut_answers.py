"""An answer cut off at its output limit (`max_tokens`): its complete findings are kept and the
part is asked once more with a larger limit; a refusal is final. Through the fake Messages API,
which cuts an answer as the API does (only the tool parameters finished before the cut)."""

from __future__ import annotations

from app.review.findings import Finding, Source
from tests.fakes.anthropic_api import (
    FakeAnthropic,
    cut_tool_answer,
    needs_output,
    text_answer,
    tool_answer,
)
from tests.jobs.model_calls import LEDGER, answer, finding, ledger_only, request, review

# Three concerns on the service file (hunks at new lines 10-15 and 41-45).
FIRST = finding(path=LEDGER, lines="11", rule="general", category="data", title="Unlocked read")
SECOND = finding(path=LEDGER, lines="42", rule="general", category="api", title="No idempotency")
THIRD = finding(path=LEDGER, lines="44", rule="general", category="testing", title="Untested")


def _llm(findings: tuple[Finding, ...]) -> list[Finding]:
    return sorted((f for f in findings if f.source is Source.LLM), key=lambda f: f.title)


def _titles(findings: tuple[Finding, ...]) -> list[str]:
    return [f.title for f in _llm(findings)]


async def test_a_cut_answer_keeps_its_findings_and_is_retried_once_with_twice_the_limit() -> None:
    fake = FakeAnthropic()
    # Cut while writing the summary: the findings had been written whole.
    fake.enqueue(cut_tool_answer(answer(FIRST, SECOND), cut_in="summary"))
    # The retry says the first concern again in other words, and adds one.
    reworded = {**FIRST, "title": "Balance read without a lock"}
    fake.enqueue(tool_answer(answer(reworded, THIRD)))

    result = await review(fake, request(ledger_only()))

    assert [body["max_tokens"] for body in fake.bodies] == [4096, 8192]
    # The same question again, not a repair turn: one user message, the same text.
    assert fake.bodies[1]["messages"] == fake.bodies[0]["messages"]
    assert (result.outcome, result.calls, result.part_outcomes) == ("complete", 2, ("retried",))
    # Kept from the cut answer, merged with the retry's, the repeated concern once.
    assert _titles(result.plan.findings) == [
        "Balance read without a lock",
        "No idempotency",
        "Untested",
    ]
    assert result.usage.output_tokens == 4096 + 318  # the cut answer wrote all it was allowed
    assert result.plan.conclusion == "success"  # complete: nothing blocks, nothing missing


async def test_an_answer_cut_inside_its_findings_keeps_nothing_and_the_retry_answers() -> None:
    fake = FakeAnthropic()
    # The whole answer needs 6,000 output tokens: cut at 4,096 (the API sends no findings at
    # all, as the findings parameter was not finished), whole at 8,192.
    fake.respond_with(needs_output(6_000, answer(FIRST, SECOND), cut_in="findings"))

    result = await review(fake, request(ledger_only()))

    [cut, _] = fake.bodies
    assert [body["max_tokens"] for body in fake.bodies] == [4096, 8192]
    assert cut["messages"] == fake.bodies[1]["messages"]
    assert result.outcome == "complete"
    assert _titles(result.plan.findings) == ["No idempotency", "Unlocked read"]


async def test_the_larger_limit_stops_at_the_models_ceiling() -> None:
    fake = FakeAnthropic()
    fake.respond_with(needs_output(6_000, answer(FIRST), cut_in="findings"))

    result = await review(fake, request(ledger_only()), output_ceiling=6_000)

    assert [body["max_tokens"] for body in fake.bodies] == [4096, 6000]
    assert result.outcome == "complete"


async def test_at_the_ceiling_already_the_complete_findings_are_kept_and_the_part_is_cut() -> None:
    fake = FakeAnthropic()
    fake.enqueue(cut_tool_answer(answer(FIRST, SECOND), cut_in="summary"))

    result = await review(fake, request(ledger_only()), output_ceiling=4096)

    assert len(fake.requests) == 1  # no larger limit to ask for
    assert result.outcome == "partial"
    assert result.part_outcomes == ("unusable",)
    assert _titles(result.plan.findings) == ["No idempotency", "Unlocked read"]
    assert result.plan.conclusion == "neutral"  # incomplete is never success
    assert (
        "1 of 1 part(s) were not fully reviewed by the model (the model's answer was cut off "
        "at its output limit of 4096 tokens, the most this model can write; its 2 complete "
        "finding(s) were kept)"
    ) in result.plan.check_title


async def test_a_retry_cut_again_keeps_what_both_completed_and_asks_no_more() -> None:
    fake = FakeAnthropic()
    fake.enqueue(
        cut_tool_answer(answer(FIRST), cut_in="summary"),
        cut_tool_answer(answer(FIRST, SECOND), cut_in="summary"),
    )

    result = await review(fake, request(ledger_only()))

    assert [body["max_tokens"] for body in fake.bodies] == [4096, 8192]
    assert result.outcome == "partial"
    assert _titles(result.plan.findings) == ["No idempotency", "Unlocked read"]
    assert "also on its one retry with a larger limit" in result.plan.check_title
    assert result.usage.output_tokens == 4096 + 8192


async def test_no_larger_retry_when_it_would_not_fit_the_review_budget() -> None:
    fake = FakeAnthropic()
    # The cut answer's input alone was most of the review's budget (400k): the retry, with
    # twice the output, would not fit.
    cut = cut_tool_answer(answer(FIRST), cut_in="summary", usage={"input_tokens": 385_000})
    fake.enqueue(cut)

    result = await review(fake, request(ledger_only()))

    assert len(fake.requests) == 1
    assert result.outcome == "partial"
    assert _titles(result.plan.findings) == ["Unlocked read"]
    assert result.plan.conclusion == "neutral"
    assert "a retry with 8192 would not fit the review's token budget" in (result.plan.check_title)


async def test_the_larger_retry_is_costed_with_the_thinking_sent_beside_it() -> None:
    # 194k spent; the retry's input (190k) and twice the answer's limit (8,192) fit in 400k,
    # but not with 8,000 tokens of thinking on top.
    cut = cut_tool_answer(answer(FIRST), cut_in="summary", usage={"input_tokens": 190_000})
    thinking = FakeAnthropic()
    thinking.enqueue(cut)
    result = await review(thinking, request(ledger_only()), thinking_tokens=8_000)
    assert len(thinking.requests) == 1
    assert "a retry with 8192 would not fit the review's token budget" in result.plan.check_title

    without = FakeAnthropic()
    without.enqueue(cut, tool_answer(answer(FIRST)))
    await review(without, request(ledger_only()))
    assert len(without.requests) == 2


async def test_a_cut_answer_with_nothing_complete_is_unusable_not_partial() -> None:
    fake = FakeAnthropic()
    fake.enqueue(cut_tool_answer(answer(FIRST), cut_in="findings"))

    result = await review(fake, request(ledger_only()), output_ceiling=4096)

    assert result.outcome == "unusable"
    assert _llm(result.plan.findings) == []
    assert result.plan.conclusion == "neutral"


async def test_a_refusal_on_the_retry_is_final_and_the_cut_findings_stay() -> None:
    fake = FakeAnthropic()
    fake.enqueue(
        cut_tool_answer(answer(FIRST), cut_in="summary"),
        text_answer("I can't help with that.", stop_reason="refusal"),
    )

    result = await review(fake, request(ledger_only()))

    assert len(fake.requests) == 2  # a refusal is not asked again
    assert _titles(result.plan.findings) == ["Unlocked read"]
    assert result.plan.conclusion == "neutral"
    assert "the model refused to review this part" in result.plan.check_title


async def test_the_retry_without_a_summary_still_gets_its_repair_turn() -> None:
    fake = FakeAnthropic()
    fake.enqueue(
        cut_tool_answer(answer(FIRST), cut_in="summary"),
        tool_answer({"findings": [SECOND]}),
        tool_answer(answer()),
    )

    result = await review(fake, request(ledger_only()))

    assert [body["max_tokens"] for body in fake.bodies] == [4096, 8192, 8192]
    assert len(fake.bodies[2]["messages"]) == 3  # the repair replays the retry's answer
    assert result.outcome == "complete"
    assert _titles(result.plan.findings) == ["No idempotency", "Unlocked read"]
