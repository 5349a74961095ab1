"""`/backend-review ignore <reason>` and `/backend-review explain` written as replies in one of
our findings' review threads: about that finding, answered in the thread, under the same rules
(who may, the dismissal policy, refusals throttled) as in the conversation."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.payloads import CommandJob
from app.review.explain import EXPLAIN_OUTPUT_TOKENS
from app.review.markers import finding_ids, is_summary
from app.store.jobs import NewJob
from app.store.tables import llm_usage
from tests.conftest import FakeClock
from tests.fakes.anthropic_api import Answer, tool_answer
from tests.fakes.github_objects import Review, ReviewComment
from tests.jobs import LEDGER, REFUNDS, World, world
from tests.jobs.model_calls import answer

COST = "backend_review_llm_cost_usd_total"
LEDGER_ONLY = REFUNDS[REFUNDS.index("diff --git a/app/services/ledger.py") :]
BLOCKING = {
    "rule": "data.constraints",
    "type": "evidence",
    "category": "data",
    "severity": "major",
    "title": "Entry written without a transaction",
    "where": {"path": LEDGER, "lines": "12"},
    "evidence": "`db.flush()` outside a transaction: a crash leaves half a refund.",
    "recommendation": "Wrap it in `with db.begin():`.",
    "confidence": 0.9,
}
REASONING = "If the process dies between the two writes, the ledger keeps a debit with no credit."


def _model(body: dict[str, Any]) -> Answer:
    if body["tools"][0]["name"] == "explain_finding":
        return tool_answer({"reasoning": REASONING})
    return tool_answer(answer(BLOCKING))


@pytest.fixture
async def w(engine: AsyncEngine, tmp_path: Path) -> Any:
    async with world(engine, tmp_path) as built:
        built.llm.respond_with(_model)
        yield built


async def _finding_thread(w: World) -> tuple[Any, ReviewComment, str]:
    pr = w.pull(LEDGER_ONLY)
    await w.run(w.review_job(pr))
    [root] = [c for c in w.github.review_comments_on(w.repo, pr.number) if "transaction" in c.body]
    [finding_id] = finding_ids(root.body)
    return pr, root, finding_id


def in_thread(w: World, root: ReviewComment, author: str, body: str) -> NewJob:
    """`author` replies `body` in `root`'s thread; the command job its webhook would queue."""
    reply = w.github.add_thread_reply(root, author, body)
    job = CommandJob(
        installation_id=w.repo.installation_id,
        repository=w.repo.full_name,
        repository_id=w.repo.id,
        number=root.pull_number,
        comment_id=reply.id,
        author=author,
        body=body,
        thread_root=root.id,
    )
    return NewJob("command", job.model_dump())


def answers(w: World, root: ReviewComment) -> list[str]:
    """Our replies in the thread, oldest first."""
    return [
        c.body
        for r in w.github.reviews
        for c in r.comments
        if c.in_reply_to_id == root.id and c.user == w.github.bot
    ]


async def test_ignore_in_the_thread_dismisses_its_finding(w: World) -> None:
    pr, root, finding_id = await _finding_thread(w)
    [first] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert first.conclusion == "failure"

    w.ctx.now = FakeClock()
    job = in_thread(w, root, "maintainer", "/backend-review ignore the flush is in a transaction")
    await w.run(job)
    await w.run_next()  # the review it queued

    assert await w.ctx.store.dismissals(w.repo.id, pr.number) == {
        finding_id: "by @maintainer: the flush is in a transaction"
    }
    [reply] = answers(w, root)
    assert reply.startswith(f"Dismissed `{finding_id}` for @maintainer:")
    command_id = CommandJob.model_validate(job.payload).comment_id
    assert [r.content for r in w.github.review_reactions[command_id]] == ["eyes"]
    assert w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")[-1].conclusion == (
        "success"
    )
    # Answered in the thread only: the conversation holds just the summary.
    assert [is_summary(c.body) for c in w.github.issue_comments_on(w.repo, pr.number)] == [True]


async def test_the_dismissal_policy_applies_in_a_thread_too(w: World) -> None:
    pr, root, _ = await _finding_thread(w)
    w.github.set_permission(w.repo, "octocat", "write")  # the PR's author

    await w.run(in_thread(w, root, "octocat", "/backend-review ignore trust me"))

    [reply] = answers(w, root)
    assert reply.startswith("Not dismissed:")
    assert await w.ctx.store.dismissals(w.repo.id, pr.number) == {}


async def test_a_reader_is_refused_in_the_thread_then_only_reacted_to(w: World) -> None:
    _, root, _ = await _finding_thread(w)

    await w.run(in_thread(w, root, "reader", "/backend-review ignore nope"))
    second = in_thread(w, root, "reader", "/backend-review explain")
    await w.run(second)

    [reply] = answers(w, root)
    assert reply.startswith("Sorry @reader")
    command_id = CommandJob.model_validate(second.payload).comment_id
    assert [r.content for r in w.github.review_reactions[command_id]] == ["eyes", "-1"]
    assert len(w.llm.requests) == 1  # the review's: no explain call for a reader


async def test_explain_answers_with_the_evidence_and_the_models_reasoning(w: World) -> None:
    _pr, root, finding_id = await _finding_thread(w)
    before = w.ctx.metrics.registry.get_sample_value(COST) or 0.0

    await w.run(in_thread(w, root, "maintainer", "/backend-review explain"))

    [reply] = answers(w, root)
    assert reply.startswith(f"**Why `{finding_id}` was raised:** Entry written without")
    assert "**Evidence:** `db.flush()` outside a transaction" in reply
    assert f"**The model's reasoning:** {REASONING}" in reply
    explain = w.llm.bodies[-1]
    prompt = explain["messages"][0]["content"]
    text = prompt if isinstance(prompt, str) else "".join(b.get("text", "") for b in prompt)
    assert "db.flush()" in text
    assert "@@" in text
    async with w.ctx.store.engine.connect() as conn:
        outcomes = (await conn.execute(select(llm_usage.c.outcome))).scalars().all()
    assert sorted(outcomes) == ["complete", "explain"]  # counted against the daily cap
    assert await w.queue.claim() is None  # nothing else queued
    # Held to its own short answer (plus the thinking budget it is sent with), and priced.
    thinking = explain.get("thinking", {}).get("budget_tokens", 0)
    assert explain["max_tokens"] == EXPLAIN_OUTPUT_TOKENS + thinking
    assert (w.ctx.metrics.registry.get_sample_value(COST) or 0.0) > before


async def test_explain_without_a_model_says_what_we_know(w: World) -> None:
    _, root, _ = await _finding_thread(w)
    w.model_on = False

    await w.run(in_thread(w, root, "maintainer", "/backend-review explain"))

    [reply] = answers(w, root)
    assert "**Recommendation:** Wrap it in `with db.begin():`." in reply
    assert "No model explanation: no model is configured." in reply
    assert len(w.llm.requests) == 1


async def test_explain_over_the_daily_cap_makes_no_call(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with world(engine, tmp_path, llm_daily_tokens=1) as w:
        w.llm.respond_with(_model)
        w.model_on = False  # the review itself without a model: the rules raise the finding
        pr = w.pull()
        await w.run(w.review_job(pr))
        root = w.github.review_comments_on(w.repo, pr.number)[0]
        w.model_on = True

        await w.run(in_thread(w, root, "maintainer", "/backend-review explain"))

        [reply] = answers(w, root)
        assert "No model explanation: today's model budget for this installation is spent" in reply
        assert w.llm.requests == []


async def test_a_thread_that_is_not_a_findings_is_said_so(w: World) -> None:
    pr, root, _ = await _finding_thread(w)
    # Someone's own comment on a line, with our marker pasted in: not ours, not a finding.
    review = Review(1, pr.number, w.repo.full_name, w.github.user("octocat"), "", "COMMENTED",
                    root.commit_id, root.created_at)  # fmt: skip
    forged = dataclasses.replace(root, id=2100009999, user=w.github.user("octocat"))
    review.comments.append(forged)
    w.github.reviews.append(review)

    await w.run(in_thread(w, forged, "maintainer", "/backend-review ignore it"))

    [reply] = answers(w, forged)
    assert reply.startswith("This thread is not about a backend-review finding")
    assert await w.ctx.store.dismissals(w.repo.id, pr.number) == {}


async def test_explain_in_the_conversation_points_to_the_thread(w: World) -> None:
    pr = w.pull()
    comment = w.github.add_issue_comment(w.repo, pr.number, "maintainer", "/backend-review explain")
    job = CommandJob(
        installation_id=w.repo.installation_id, repository=w.repo.full_name,
        repository_id=w.repo.id, number=pr.number, comment_id=comment.id,
        author="maintainer", body=comment.body,
    )  # fmt: skip

    await w.run(NewJob("command", job.model_dump()))

    [reply] = [c.body for c in w.github.issue_comments_on(w.repo, pr.number)]
    assert reply.startswith("reply `/backend-review explain` in the finding's thread.")
