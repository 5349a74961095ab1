"""How many calls to GitHub a review costs: every one counts against the installation's rate
limit (5,000 an hour), and each is latency before the review is posted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fakes.anthropic_api import tool_answer
from tests.fakes.linear_api import issue_json
from tests.jobs import REFUNDS, World, world
from tests.jobs.model_calls import answer

LEDGER_ONLY = REFUNDS[REFUNDS.index("diff --git a/app/services/ledger.py") :]


@pytest.fixture
async def w(engine: AsyncEngine, tmp_path: Path) -> Any:
    async with world(engine, tmp_path) as built:
        built.linear.issues["ENG-123"] = issue_json("ENG-123", title="Refunds")
        built.llm.respond_with(lambda _: tool_answer(answer()))
        yield built


def all_calls(w: World) -> list[str]:
    return [f"{c.method} {c.path}" for c in w.github.calls]


async def test_a_first_review_with_a_linked_issue_takes_ten_calls(w: World) -> None:
    pr = w.pull(LEDGER_ONLY, head_ref="eng-123-add-refunds")

    await w.run(w.review_job(pr))

    assert len(w.linear.requests) == 2  # the issue was read: the linked-issue path ran
    assert all_calls(w) == [
        "POST /app/installations/40000001/access_tokens",
        "GET /repos/acme/payments/pulls/1",
        "GET /repos/acme/payments/contents/.github/backend-review.yml",
        "POST /repos/acme/payments/check-runs",
        "GET /repos/acme/payments/pulls/1",  # the diff
        "GET /repos/acme/payments/issues/1/comments",  # no summary of ours: nothing else to read
        "POST /graphql",  # the changed files, whole, and the commit messages
        "POST /repos/acme/payments/issues/1/comments",
        "POST /repos/acme/payments/pulls/1/reviews",
        "PATCH /repos/acme/payments/check-runs/30000000006",
    ]


async def test_a_re_review_reads_our_comments_and_asks_who_we_are_once_per_process(
    w: World,
) -> None:
    first = w.pull(LEDGER_ONLY, head_ref="eng-123-add-refunds")
    second = w.pull(LEDGER_ONLY, head_ref="eng-123-more-refunds")
    await w.run(w.review_job(first))
    await w.run(w.review_job(second))
    before = len(w.github.calls)

    await w.run(w.review_job(first, trigger="check_run.rerequested"))
    await w.run(w.review_job(second, trigger="check_run.rerequested"))

    again = all_calls(w)[before:]
    assert again.count("GET /app") == 1  # the App's name: one call for the process
    # Our inline comments: the reviews listed once, and only our own reviews opened.
    assert again.count("GET /repos/acme/payments/pulls/1/reviews") == 1
    assert again.count("GET /repos/acme/payments/pulls/2/reviews") == 1
    assert any(c.startswith("GET /repos/acme/payments/pulls/1/reviews/") for c in again)
    assert "POST /app/installations/40000001/access_tokens" not in again  # the token is kept
    # Nothing posted twice: the summary is edited in place, no finding is commented again.
    assert "POST /repos/acme/payments/issues/1/comments" not in again


async def test_a_push_that_fixes_a_commented_finding_adds_one_query_and_one_mutation(
    w: World,
) -> None:
    secret = '+STRIPE_KEY = "sk_live_51HqLyjWDarjtT1zdp7dcXAMPLEkeyABCDEF"'
    pr = w.pull(REFUNDS, head_ref="eng-123-add-refunds")
    await w.run(w.review_job(pr))
    w.github.force_push(pr, REFUNDS.replace(secret, '+STRIPE_KEY = env("KEY")'))
    before = len(w.github.calls)

    await w.run(w.review_job(pr, trigger="pull_request.synchronize"))

    graphql = [
        c.json["query"].split("(", 1)[0] for c in w.github.calls[before:] if c.path == "/graphql"
    ]
    # The files (a full review after a force-push), the threads, one mutation for them all.
    assert graphql == ["query", "query", "mutation"]
    assert "reviewThreads" in w.github.calls_to("POST", "/graphql")[-2].json["query"]
    assert "/replies" not in " ".join(all_calls(w)[before:])  # nobody spoke in the thread
