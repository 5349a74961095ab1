"""Who may dismiss a finding, through the fake GitHub: the PR's author, a writer, a maintainer,
and a malformed policy file; and refusal replies throttled per user per PR per hour."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.review.markers import finding_ids, is_summary
from app.store.tables import pull_reviews
from tests.conftest import FakeClock
from tests.fakes.anthropic_api import tool_answer
from tests.jobs import LEDGER, World, world
from tests.jobs.model_calls import answer
from tests.jobs.test_commands import command, reactions, replies

AUTHOR = "octocat"  # the fake's default PR author
CONFIG = ".github/backend-review.yml"
MAJOR = {
    "rule": "data.constraints",
    "type": "evidence",
    "category": "data",
    "severity": "major",
    "title": "Entry written without a transaction",
    "where": {"path": LEDGER, "lines": "12"},
    "evidence": "`db.flush()` outside a transaction.",
    "recommendation": "Wrap it.",
    "confidence": 0.9,  # sure enough to block (model.block_confidence)
}


@pytest.fixture
async def w(engine: AsyncEngine, tmp_path: Path) -> Any:
    async with world(engine, tmp_path) as built:
        built.github.set_permission(built.repo, AUTHOR, "admin")  # even an admin author
        built.github.set_permission(built.repo, "lead", "maintain")
        built.llm.respond_with(lambda _: tool_answer(answer(MAJOR)))
        yield built


def _id_of(w: World, number: int, heading: str) -> str:
    """Finding id of the bot's inline comment whose first line has `heading`."""
    [found] = [
        next(iter(finding_ids(c.body)))
        for c in w.github.review_comments_on(w.repo, number)
        if heading in c.body.split("\n", 1)[0]
    ]
    return found


def _summary(w: World, number: int) -> str:
    return next(c.body for c in w.github.issue_comments_on(w.repo, number) if is_summary(c.body))


def _conclusion(w: World, pr: Any) -> str | None:
    return w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")[-1].conclusion


async def _reviewed(w: World) -> tuple[Any, str, str]:
    """A PR with a critical finding (the Stripe key) and a major one: the check fails."""
    pr = w.pull()
    await w.run(w.review_job(pr))
    assert _conclusion(w, pr) == "failure"
    return pr, _id_of(w, pr.number, "**Critical**"), _id_of(w, pr.number, "`data.constraints`")


async def test_the_author_cannot_dismiss_on_their_own_pull_request(w: World) -> None:
    pr, _, major = await _reviewed(w)

    await w.run(command(w, pr.number, AUTHOR, f"/backend-review ignore {major} it is fine"))

    [reply] = replies(w, pr.number)
    assert reply.startswith(f"Not dismissed: `{major}` still counts for the check.")
    assert "the author of a pull request cannot dismiss findings on it" in reply
    assert await w.ctx.store.dismissals(w.repo.id, pr.number) == {}
    assert await w.queue.claim() is None  # no re-review: nothing changed
    assert _conclusion(w, pr) == "failure"


async def test_a_writer_dismisses_a_major_finding_but_not_a_critical_one(w: World) -> None:
    pr, critical, major = await _reviewed(w)

    await w.run(command(w, pr.number, "maintainer", f"/backend-review ignore {critical} test key"))
    await w.run(command(w, pr.number, "maintainer", f"/backend-review ignore {major} batched"))
    await w.run_next()  # the re-review the major's dismissal queued

    refused, dismissed = replies(w, pr.number)
    assert "this finding is critical: dismissing it needs maintain or admin permission" in refused
    # Logins quoted in what we post are neutralised (a zero-width space after the @): no ping.
    assert "@\u200bmaintainer has write" in refused
    assert dismissed.startswith(f"Dismissed `{major}` for @maintainer: batched")
    assert list(await w.ctx.store.dismissals(w.repo.id, pr.number)) == [major]
    summary = _summary(w, pr.number)
    assert f"`{major}` Entry written without a transaction — by @\u200bmaintainer on " in summary
    assert _conclusion(w, pr) == "failure"  # the key still blocks


async def test_a_maintainer_dismisses_a_critical_finding_and_the_summary_says_who_when_why(
    w: World,
) -> None:
    pr, critical, major = await _reviewed(w)
    clock = FakeClock()
    w.ctx.now = clock

    await w.run(command(w, pr.number, "lead", f"/backend-review ignore {critical} test-mode key"))
    await w.run_next()
    await w.run(command(w, pr.number, "lead", f"/backend-review ignore {major} batched"))
    await w.run_next()

    summary = _summary(w, pr.number)
    assert "<summary><b>Dismissed</b>" in summary
    assert f"`{critical}` " in summary
    assert "— by @\u200blead on 2026-11-22 12:00 UTC: test-mode key" in summary
    assert "— by @\u200blead on 2026-11-22 12:00 UTC: batched" in summary
    assert _conclusion(w, pr) == "success"


async def test_a_dismissal_the_policy_no_longer_allows_is_not_applied_and_says_why(
    w: World,
) -> None:
    pr, _, major = await _reviewed(w)
    await w.run(command(w, pr.number, "maintainer", f"/backend-review ignore {major} batched"))
    await w.run_next()
    # The base branch now asks maintain for any dismissal: the writer's no longer counts.
    w.github.set_file(w.repo, "main", CONFIG, "dismiss:\n  min_permission: maintain\n")
    await w.run(w.review_job(pr, trigger="check_run.rerequested"))

    summary = _summary(w, pr.number)
    needs = "not applied: dismissing a finding needs"
    assert f"`{major}`: dismissal by @\u200bmaintainer {needs}" in summary
    assert f"`{major}` Entry written without a transaction — by" not in summary


async def test_a_critical_finding_of_unknown_severity_is_judged_by_the_review(w: World) -> None:
    pr, critical, _ = await _reviewed(w)
    async with w.ctx.store.engine.begin() as conn:  # a review stored before severities were kept
        await conn.execute(pull_reviews.update().values(severities=None))

    await w.run(command(w, pr.number, "maintainer", f"/backend-review ignore {critical} test key"))
    await w.run_next()

    [reply] = replies(w, pr.number)
    assert "If it is a critical finding, dismissing it needs maintain permission or more" in reply
    summary = _summary(w, pr.number)
    critical_refused = "not applied: this finding is critical"
    assert f"`{critical}`: dismissal by @\u200bmaintainer {critical_refused}" in summary
    assert _conclusion(w, pr) == "failure"


async def test_the_base_branch_may_let_authors_dismiss_but_a_malformed_file_does_not(
    w: World,
) -> None:
    pr, _, major = await _reviewed(w)
    # A typo in the policy: the file is reported and the defaults (the strictest) apply.
    w.github.set_file(w.repo, "main", CONFIG, "dismiss:\n  allow_authors: true\n")
    await w.run(command(w, pr.number, AUTHOR, f"/backend-review ignore {major} fine"))
    assert "cannot dismiss findings on it" in replies(w, pr.number)[-1]

    w.github.set_file(w.repo, "main", CONFIG, "dismiss:\n  allow_author: true\n")
    await w.run(command(w, pr.number, AUTHOR, f"/backend-review ignore {major} fine"))
    await w.run_next()

    [record] = await w.ctx.store.dismissal_records(w.repo.id, pr.number)
    assert (record.by_login, record.role) == (AUTHOR, "admin")
    assert "— by @\u200boctocat on " in _summary(w, pr.number)


async def test_refusals_are_answered_once_per_user_per_pr_per_hour(w: World) -> None:
    pr = w.pull()
    clock = FakeClock()
    w.ctx.now = clock

    for _ in range(3):
        await w.run(command(w, pr.number, "reader", "/backend-review"))
    clock.advance(timedelta(minutes=59).total_seconds())
    await w.run(command(w, pr.number, "reader", "/backend-review"))
    assert len(replies(w, pr.number)) == 1
    assert reactions(w, pr.number) == ["eyes", "eyes", "-1", "eyes", "-1", "eyes", "-1"]

    clock.advance(timedelta(minutes=2).total_seconds())
    await w.run(command(w, pr.number, "reader", "/backend-review"))
    assert len(replies(w, pr.number)) == 2
    # Another user on the same PR has their own allowance.
    await w.run(command(w, pr.number, "stranger", "/backend-review help"))
    assert len(replies(w, pr.number)) == 3
    assert await w.queue.claim() is None
