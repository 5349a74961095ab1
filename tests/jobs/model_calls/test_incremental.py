"""Re-reviews: only changed files go to the model; the last review's findings elsewhere stay."""

from __future__ import annotations

from app.review.findings import Finding, Source
from tests.fakes.anthropic_api import FakeAnthropic, tool_answer
from tests.jobs.model_calls import ENDPOINT, LEDGER, answer, files_in, finding, request, review


def _carried_finding() -> Finding:
    data = finding(path=LEDGER, lines="12", rule="data.constraints", category="data")
    return Finding.model_validate({**data, "source": "llm", "id": "br-000000000000"})


async def test_only_files_in_scope_reach_the_model_and_the_rest_is_carried() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(answer(finding(rule="api.idempotency", lines="11"))))

    result = await review(
        fake,
        request(model_scope=frozenset({ENDPOINT}), carried=(_carried_finding(),)),
    )

    [body] = fake.bodies
    assert files_in(body) == [ENDPOINT]
    assert result.outcome == "complete"
    llm = {(f.where.path, f.rule) for f in result.plan.findings if f.source is Source.LLM}
    assert llm == {(ENDPOINT, "api.idempotency"), (LEDGER, "data.constraints")}
    assert result.plan.not_reviewed == []  # unchanged files are not "not reviewed"


async def test_nothing_changed_means_no_call_and_a_complete_review() -> None:
    fake = FakeAnthropic()

    result = await review(fake, request(model_scope=frozenset(), carried=(_carried_finding(),)))

    assert fake.requests == []
    assert result.outcome == "complete"
    assert result.plan.conclusion == "failure"  # the secret and the carried major finding
    assert any(f.where.path == LEDGER and f.source is Source.LLM for f in result.plan.findings)


async def test_a_carried_finding_on_a_file_in_scope_or_gone_is_dropped() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(answer()))
    gone = _carried_finding().model_copy(
        update={"where": _carried_finding().where.model_copy(update={"path": "app/removed.py"})}
    )

    result = await review(
        fake,
        request(model_scope=frozenset({LEDGER}), carried=(_carried_finding(), gone)),
    )

    assert [f for f in result.plan.findings if f.source is Source.LLM] == []


async def test_findings_gone_since_the_last_review_are_listed_as_resolved() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(answer()))

    result = await review(
        fake,
        request(previous={"br-aaaaaaaaaaaa": "Old finding"}, resolved_in="f" * 40),
    )

    assert "<b>Resolved in <code>ffffffffffff</code></b>" in result.plan.summary_body
    assert "`br-aaaaaaaaaaaa` Old finding" in result.plan.summary_body
