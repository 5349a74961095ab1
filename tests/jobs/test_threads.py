"""Our review threads close when a push fixes their finding: resolved when only bots spoke in
them, answered "fixed in <sha>" (once) when a person did. Through the fake GitHub's GraphQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from app.review.markers import finding_ids, is_summary
from app.review.render import posted_title
from app.store.tables import pull_reviews
from tests.fakes.anthropic_api import tool_answer
from tests.fakes.github_graphql import graphql_errors_next
from tests.fakes.github_objects import ReviewComment
from tests.fakes.github_state import Pull
from tests.fakes.github_threads import thread_id
from tests.jobs import REFUNDS, World, world
from tests.jobs.model_calls import answer

SECRET_LINE = '+STRIPE_KEY = "sk_live_51HqLyjWDarjtT1zdp7dcXAMPLEkeyABCDEF"'
WITHOUT_SECRET = REFUNDS.replace(SECRET_LINE, '+STRIPE_KEY = env("KEY")')


@pytest.fixture
async def w(engine: AsyncEngine, tmp_path: Path) -> Any:
    async with world(engine, tmp_path) as built:
        built.llm.respond_with(lambda _: tool_answer(answer()))
        yield built


async def _reviewed(w: World) -> tuple[Pull, ReviewComment, list[ReviewComment]]:
    """A reviewed PR, the secret's comment, and our other comments."""
    pr = w.pull()
    await w.run(w.review_job(pr))
    comments = w.github.review_comments_on(w.repo, pr.number)
    [secret] = [c for c in comments if "Stripe live key" in posted_title(c.body)]
    return pr, secret, [c for c in comments if c is not secret]


async def _push_the_fix(w: World, pr: Pull) -> None:
    w.github.force_push(pr, WITHOUT_SECRET)
    await w.run(w.review_job(pr, trigger="pull_request.synchronize"))


def _thread(w: World, root: ReviewComment) -> list[str]:
    """The replies in `root`'s thread, oldest first."""
    return [c.body for r in w.github.reviews for c in r.comments if c.in_reply_to_id == root.id]


def _summary(w: World, pr: Pull) -> str:
    [summary] = [c for c in w.github.issue_comments_on(w.repo, pr.number) if is_summary(c.body)]
    return summary.body


async def test_a_fixed_findings_thread_is_resolved_and_only_that_one(w: World) -> None:
    pr, secret, others = await _reviewed(w)
    assert others  # the rules found more than the secret: those threads stay open
    before = len(w.github.calls)

    await _push_the_fix(w, pr)

    assert set(w.github.resolved_threads) == {secret.id}
    assert _thread(w, secret) == []  # nobody spoke in it: resolved without a word
    mutations = [
        c for c in w.github.calls[before:] if c.path == "/graphql" and "mutation" in c.json["query"]
    ]
    threads = [c for c in w.github.calls[before:] if "reviewThreads" in str(c.json)]
    assert (len(mutations), len(threads)) == (1, 1)  # one query, one mutation for all
    assert "<b>Resolved in" in _summary(w, pr)


async def test_a_thread_a_person_spoke_in_is_answered_once_and_left_open(w: World) -> None:
    pr, secret, _ = await _reviewed(w)
    w.github.add_thread_reply(secret, "octocat", "It's a test key, I'll rotate it.")

    await _push_the_fix(w, pr)

    assert w.github.resolved_threads == {}
    [_person, ours] = _thread(w, secret)
    assert ours.startswith(f"Fixed in {pr.head_sha[:12]}: the review no longer finds `")
    [finding_id] = finding_ids(secret.body)
    assert f"<!-- backend-review:fixed {finding_id} -->" in ours

    # Another push, and the author thanks us: the fix is not announced again.
    w.github.add_thread_reply(secret, "octocat", "thanks")
    w.github.force_push(pr, WITHOUT_SECRET.replace("env(", "env_var("))
    await w.run(w.review_job(pr, trigger="pull_request.synchronize"))
    assert len(_thread(w, secret)) == 3


async def test_without_a_stored_review_our_last_word_is_not_repeated(w: World) -> None:
    pr, secret, _ = await _reviewed(w)
    w.github.add_thread_reply(secret, "octocat", "Will do.")
    await _push_the_fix(w, pr)
    # The database is lost (or a retry runs before the review was remembered): every resolved
    # finding looks new, but the thread already ends with our "fixed" reply.
    async with w.ctx.store.engine.begin() as conn:
        await conn.execute(delete(pull_reviews))
    await w.run(w.review_job(pr, trigger="check_run.rerequested"))

    assert len(_thread(w, secret)) == 2


async def test_threads_that_cannot_be_resolved_are_said_in_the_summary(w: World) -> None:
    pr, _secret, _ = await _reviewed(w)
    # The review's own query for the files and the thread listing pass; the mutation fails.
    w.github.delay_next("POST", r"/graphql$", 0, times=2)
    graphql_errors_next(
        w.github,
        {"type": "FORBIDDEN", "path": ["t0"], "message": "Resource not accessible by integration"},
        data={"t0": None},
    )

    await _push_the_fix(w, pr)

    assert w.github.resolved_threads == {}
    summary = _summary(w, pr)
    assert "Some review threads of fixed findings were left open" in summary
    assert "Resource not accessible by integration" in summary
    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert check.conclusion == "success"  # the review itself went through


async def test_threads_left_open_are_tried_again_by_the_next_review(w: World) -> None:
    pr, secret, _ = await _reviewed(w)
    w.github.delay_next("POST", r"/graphql$", 0, times=2)
    w.github.fail_next("POST", r"/graphql$", 502, None)
    await _push_the_fix(w, pr)
    assert w.github.resolved_threads == {}
    assert await _threads_open(w, pr) == sorted(finding_ids(secret.body))

    # The finding is gone from the review that failed, yet its thread is still ours to close.
    await w.run(w.review_job(pr, trigger="check_run.rerequested"))

    assert secret.id in w.github.resolved_threads
    assert "Some review threads of fixed findings were left open" not in _summary(w, pr)
    assert await _threads_open(w, pr) == []


async def _threads_open(w: World, pr: Pull) -> list[str]:
    last = await w.ctx.store.last_review(w.repo.id, pr.number)
    assert last is not None
    return list(last.threads_open)


async def test_a_thread_resolved_by_hand_or_an_old_fix_costs_no_call(w: World) -> None:
    pr, _secret, _ = await _reviewed(w)
    await _push_the_fix(w, pr)
    before = len(w.github.calls)

    await w.run(w.review_job(pr, trigger="check_run.rerequested"))

    assert not [c for c in w.github.calls[before:] if "reviewThreads" in str(c.json)]


async def test_the_adapter_reads_threads_and_reports_each_resolution(w: World) -> None:
    pr, secret, others = await _reviewed(w)
    w.github.add_thread_reply(secret, "octocat", "hm")
    repo = w.ctx.github.repo(w.repo.installation_id, w.repo.full_name)

    listed = await repo.review_threads(pr.number, max_pages=1)
    outcome = await repo.resolve_threads([thread_id(secret), "PRRT_gone"])

    by_root = {t.root_id: t for t in listed.threads}
    assert set(by_root) == {secret.id, *(c.id for c in others)}
    assert by_root[secret.id].people_spoke()
    assert not by_root[others[0].id].people_spoke()
    assert by_root[secret.id].authors[0].by("backend-review[bot]")
    assert (listed.requests, listed.truncated) == (1, False)
    assert outcome == {
        thread_id(secret): None,
        "PRRT_gone": "Could not resolve to a node with the global id of 'PRRT_gone'",
    }


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        # The thread listing comes back in a shape we cannot read.
        (
            (200, {"data": {"repository": {"pullRequest": {"reviewThreads": {"nodes": 7}}}}}, 1),
            "the threads could not be read: unexpected answer from GitHub",
        ),
        # The mutation fails whole (GitHub down): it is not repeated.
        ((502, None, 2), "GitHub answered 502"),
    ],
    ids=["malformed-listing", "mutation-502"],
)
async def test_a_failure_anywhere_leaves_the_threads_open_and_says_so(
    w: World, answer: tuple[int, Any, int], said: str
) -> None:
    status, body, passing = answer
    pr, _, _ = await _reviewed(w)
    w.github.delay_next("POST", r"/graphql$", 0, times=passing)
    w.github.fail_next("POST", r"/graphql$", status, body)

    await _push_the_fix(w, pr)

    assert w.github.resolved_threads == {}
    summary = _summary(w, pr)
    assert "Some review threads of fixed findings were left open" in summary
    assert said in summary
    assert w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")[-1].conclusion == (
        "success"
    )
