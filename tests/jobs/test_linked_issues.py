"""Linked Linear issues in a review: read, judged per criterion, or missing and said so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.linear.client import LinearClient
from app.review.markers import is_summary
from tests.fakes.anthropic_api import tool_answer
from tests.fakes.linear_api import KEY, URL, issue_json
from tests.jobs import REFUNDS, World, world
from tests.jobs.model_calls import answer

LEDGER_ONLY = REFUNDS[REFUNDS.index("diff --git a/app/services/ledger.py") :]
ENG_123 = """Customers get their money back.

## Acceptance criteria
- A refund writes a ledger entry
- Refunds are audited with the amount
"""


@pytest.fixture
async def w(engine: AsyncEngine, tmp_path: Path) -> Any:
    async with world(engine, tmp_path) as built:
        built.linear.issues["ENG-123"] = issue_json("ENG-123", title="Refunds", description=ENG_123)
        built.llm.respond_with(
            lambda _: tool_answer(
                answer()
                | {
                    "criteria": [
                        {
                            "ticket": "ENG-123",
                            "criterion": 1,
                            "status": "met",
                            "evidence": "ledger.py:12",
                        },
                        {
                            "ticket": "ENG-123",
                            "criterion": 2,
                            "status": "not met",
                            "evidence": "no audit call",
                        },
                    ]
                }
            )
        )
        yield built


def summary(w: World, number: int) -> str:
    [comment] = [c for c in w.github.issue_comments_on(w.repo, number) if is_summary(c.body)]
    return comment.body


async def test_a_branch_named_after_an_issue_gets_its_criteria_judged(w: World) -> None:
    pr = w.pull(LEDGER_ONLY, head_ref="eng-123-add-refunds")

    await w.run(w.review_job(pr))

    body = summary(w, pr.number)
    assert "### Acceptance criteria" in body
    assert "| A refund writes a ledger entry | ✅ met | ledger.py:12 |" in body
    assert "| Refunds are audited with the amount | ❌ not met | no audit call |" in body
    [prompt] = w.llm.bodies
    assert "ENG-123: Refunds" in prompt["messages"][0]["content"]
    assert len(w.linear.requests) == 2  # the team keys, then the issue


async def test_a_pr_that_mentions_sha_256_never_calls_linear(w: World) -> None:
    pr = w.pull(
        LEDGER_ONLY, body="Hashes with SHA-256 and UTF-8 names, per ISO-8601 and CVE-2024-1234."
    )

    await w.run(w.review_job(pr))

    assert w.linear.requests == []
    assert "No Linear issue is linked to this pull request." in summary(w, pr.number)


async def test_an_unknown_issue_and_an_unknown_team_are_said_not_taken(w: World) -> None:
    pr = w.pull(LEDGER_ONLY, title="Fixes ENG-999", body="See ABC-1 too")

    await w.run(w.review_job(pr))

    body = summary(w, pr.number)
    assert "ENG-999 could not be read: not found." in body
    assert "ABC-1" not in body  # ABC is no team of this workspace: not a link


async def test_linear_refusing_the_key_leaves_the_review_and_no_key(w: World) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(w.linear)) as http:
        right = w.ctx.linear
        w.ctx.linear = LinearClient("wrong-key-that-must-not-leak", URL, http_client=http)
        pr = w.pull(LEDGER_ONLY, head_ref="eng-123-add-refunds")
        try:
            await w.run(w.review_job(pr))
        finally:
            w.ctx.linear = right

    body = summary(w, pr.number)
    assert "Linked issues not read (ENG-123)" in body
    assert "wrong-key-that-must-not-leak" not in body
    assert KEY not in body
    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert check.status == "completed"


async def test_a_repository_can_require_a_link(w: World) -> None:
    w.github.set_file(
        w.repo, "main", ".github/backend-review.yml", "linear:\n  require_issue: true\n"
    )
    pr = w.pull(LEDGER_ONLY)

    await w.run(w.review_job(pr))

    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert check.conclusion == "failure"
    assert "No Linear issue linked" in summary(w, pr.number)


async def test_a_repository_can_switch_linear_off(w: World) -> None:
    w.github.set_file(w.repo, "main", ".github/backend-review.yml", "linear:\n  enabled: false\n")
    pr = w.pull(LEDGER_ONLY, head_ref="eng-123-add-refunds")

    await w.run(w.review_job(pr))

    assert w.linear.requests == []
    assert "Acceptance criteria" not in summary(w, pr.number)


async def test_a_required_link_named_only_in_a_commit_counts_without_a_linear_key(
    w: World,
) -> None:
    w.github.set_file(
        w.repo, "main", ".github/backend-review.yml", "linear:\n  require_issue: true\n"
    )
    linear, w.ctx.linear = w.ctx.linear, None
    try:
        pr = w.pull(LEDGER_ONLY, commits=("Write the ledger entry\n\nFixes ENG-123",))
        await w.run(w.review_job(pr))
    finally:
        w.ctx.linear = linear

    body = summary(w, pr.number)
    assert "No Linear issue linked" not in body
    assert "Linked issues not read (ENG-123): LINEAR_API_KEY is not set." in body
    assert w.linear.requests == []


async def test_linear_failing_on_the_issues_leaves_the_review(w: World) -> None:
    pr = w.pull(LEDGER_ONLY, head_ref="eng-123-add-refunds")
    real = w.linear.__call__

    def down(request: httpx.Request) -> httpx.Response:
        if b"TeamKeys" in request.content:
            return real(request)
        return httpx.Response(503, json={"errors": [{"message": "Service Unavailable"}]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as http:
        right = w.ctx.linear
        w.ctx.linear = LinearClient(KEY, URL, http_client=http)
        try:
            await w.run(w.review_job(pr))
        finally:
            w.ctx.linear = right

    body = summary(w, pr.number)
    assert "Linked issues not read (ENG-123)" in body
    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert check.status == "completed"


async def test_long_issues_share_a_bounded_part_of_the_prompt(w: World) -> None:
    long = "Background. " * 10_000 + "\n\n## Acceptance criteria\n- The last criterion\n"
    for key in ("ENG-1", "ENG-2", "ENG-3"):
        w.linear.issues[key] = issue_json(key, description=long)
    pr = w.pull(LEDGER_ONLY, body="Fixes ENG-1, ENG-2 and ENG-3")

    await w.run(w.review_job(pr))

    [prompt] = w.llm.bodies
    user = prompt["messages"][0]["content"]
    assert user.count("…[cut: the issue is longer]") == 3
    assert user.count("1. The last criterion") == 3  # criteria survive the cut
    assert len(user) < 40_000
