"""Linked issues in a review: criteria to the model, verdicts back, the table in the summary."""

from __future__ import annotations

from typing import Any

from app.jobs.model_calls import run_review
from app.review.prompt import TicketText
from tests.fakes.anthropic_api import FakeAnthropic, tool_answer
from tests.jobs.model_calls import answer, ledger_only, limits, request, review

TICKET = TicketText(
    identifier="ENG-123",
    title="Refunds",
    url="https://linear.app/acme/issue/ENG-123/refunds",
    text="Customers can get their money back.",
    criteria=("A refund is written to the ledger", "Refunds are audited"),
)


def _with_verdicts(*verdicts: dict[str, Any]) -> dict[str, Any]:
    return answer() | {"criteria": list(verdicts)}


async def test_the_model_judges_each_criterion_and_the_summary_shows_the_table() -> None:
    fake = FakeAnthropic()
    fake.enqueue(
        tool_answer(
            _with_verdicts(
                {"ticket": "ENG-123", "criterion": 1, "status": "met", "evidence": "ledger.py:12"},
                {"ticket": "ENG-123", "criterion": 2, "status": "not met", "evidence": "no audit"},
            )
        )
    )

    result = await review(fake, request(ledger_only(), tickets=(TICKET,)))

    [body] = fake.bodies
    user = body["messages"][0]["content"]
    assert "1. A refund is written to the ledger" in user
    assert "In `criteria`, give one verdict per criterion" in user
    assert "criteria" in body["tools"][0]["input_schema"]["required"]
    summary = result.plan.summary_body
    assert "### Acceptance criteria" in summary
    assert "| A refund is written to the ledger | ✅ met | ledger.py:12 |" in summary
    assert "| Refunds are audited | ❌ not met | no audit |" in summary
    assert any(f.where.path == "ENG-123#2" for f in result.plan.findings)
    assert "ENG-123 criterion 2 not met" in summary


async def test_without_a_model_the_criteria_are_still_quoted() -> None:
    result = await run_review(
        request(ledger_only(), tickets=(TICKET,)), None, limits(), rules_only_reason="no key"
    )

    summary = result.plan.summary_body
    assert "| Refunds are audited | ❔ unclear | the model gave no verdict |" in summary


async def test_unread_issues_and_a_required_link_reach_the_summary() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(answer()))
    req = request(
        ledger_only(),
        missing_context=("ENG-9 could not be read: Linear refused the API key (401)",),
        missing_issue=True,
    )

    result = await review(fake, req)

    assert "ENG-9 could not be read" in result.plan.summary_body
    assert result.plan.conclusion == "failure"
    assert any(f.rule == "linear-issue-missing" for f in result.plan.findings)
    rules_only = await run_review(req, None, limits())
    assert "> Missing context: ENG-9 could not be read" in rules_only.plan.summary_body
