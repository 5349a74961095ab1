"""The GitHub App end to end: `python -m app serve` as a process, signed webhooks in, and what
it posted read back from the fake GitHub (over HTTP, with the App's JWT and installation
tokens), with the model behind the fake Messages API (over HTTP too).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.review.markers import finding_ids
from tests.e2e import (
    E2E,
    ENDPOINT,
    LEDGER_ONLY,
    REFUNDS,
    e2e_world,
    issue_comment_event,
    pull_request_event,
)
from tests.fakes.anthropic_api import Answer, hang, overloaded, tool_answer
from tests.fakes.github_objects import Pull
from tests.jobs.model_calls import answer, files_in, finding

pytestmark = pytest.mark.slow

# The same PR one commit later: the endpoint also logs (line 15).
REFUNDS_V2 = REFUNDS.replace("@@ -0,0 +1,14 @@", "@@ -0,0 +1,15 @@").replace(
    "+    return refund\n+\n", "+    return refund\n+\n+log.info('refund created')\n"
)
DELTA_V2 = (
    "diff --git a/app/api/refunds.py b/app/api/refunds.py\nindex 1111111..1111112 100644\n"
    "--- a/app/api/refunds.py\n+++ b/app/api/refunds.py\n@@ -13,2 +13,3 @@\n"
    "     return refund\n \n+log.info('refund created')\n"
)
UNCHECKED = "Refund amount is not checked against the order total"
UNLOGGED = "Log line carries no refund id"


def model(body: dict[str, Any]) -> Answer:
    """The model's answer: one finding on line 11 of the endpoint when it is shown, and one on
    the log line once a push adds it."""
    findings = []
    if ENDPOINT in files_in(body):
        findings.append(finding(path=ENDPOINT, lines="11", title=UNCHECKED))
        if "refund created" in json.dumps(body):
            findings.append(finding(path=ENDPOINT, lines="15", severity="minor", title=UNLOGGED))
    return tool_answer(answer(*findings))


@pytest.fixture
def w(tmp_path: Path) -> Iterator[E2E]:
    with e2e_world(tmp_path) as world:
        world.llm.respond_with(model)
        yield world


def opened(w: E2E, diff: str = REFUNDS) -> Pull:
    pr = w.pull(diff)
    response = w.deliver("pull_request", pull_request_event(pr, "opened"))
    assert (response.status_code, response.json()["outcome"]) == (202, "queued")
    return pr


def test_an_opened_pr_gets_one_review_one_summary_and_a_failed_check(w: E2E) -> None:
    w.start_server()

    pr = opened(w)

    check = w.wait_for("completed check", lambda: w.completed_check(pr.head_sha))
    assert check.conclusion == "failure"  # the hard-coded live key blocks
    assert check.annotations
    [review] = w.reviews(pr.number)
    assert (review.state, review.commit_id) == ("COMMENTED", pr.head_sha)
    lines = {(c.path, c.line) for c in review.comments}
    assert (ENDPOINT, 4) in lines  # the secret, on its line
    assert (ENDPOINT, 11) in lines  # the model's finding, on the line it named
    [summary] = w.summaries(pr.number)
    assert "Stripe live key" in summary.body
    assert len(w.checks(pr.head_sha)) == 1
    assert "reviewing #" in w.server.log


def test_the_same_delivery_again_is_a_duplicate_and_posts_nothing(w: E2E) -> None:
    w.start_server()
    pr = w.pull()
    payload = pull_request_event(pr, "opened")
    first = w.deliver("pull_request", payload, delivery="e2e-duplicate-1")
    assert first.status_code == 202
    w.wait_for("completed check", lambda: w.completed_check(pr.head_sha))
    w.wait_for("every job finished", w.all_jobs_finished)
    jobs, calls = w.jobs(), len(w.github.calls)

    again = w.deliver("pull_request", payload, delivery="e2e-duplicate-1")

    assert again.status_code == 200
    assert again.json() == {"delivery": "e2e-duplicate-1", "outcome": "duplicate"}
    assert w.jobs() == jobs  # no job queued: nothing can be posted later either
    time.sleep(0.5)  # a worker poll or five: room for a wrong job to have started
    assert len(w.github.calls) == calls
    assert len(w.reviews(pr.number)) == 1
    assert len(w.summaries(pr.number)) == 1
    assert len(w.checks(pr.head_sha)) == 1
    assert len(w.llm.requests) == 1


def test_a_push_posts_only_new_findings_edits_the_summary_and_checks_the_new_head(
    w: E2E,
) -> None:
    w.start_server()
    pr = opened(w)
    w.wait_for("first check", lambda: w.completed_check(pr.head_sha))
    first_ids = {i for r in w.reviews(pr.number) for c in r.comments for i in finding_ids(c.body)}
    old_head, shown_before = pr.head_sha, len(w.llm.requests)

    with w.github.lock:
        w.github.push(pr, REFUNDS_V2, delta=DELTA_V2)
    sync = w.deliver("pull_request", pull_request_event(pr, "synchronize", before=old_head))
    assert sync.status_code == 202

    check = w.wait_for("check on the new head", lambda: w.completed_check(pr.head_sha))
    assert (check.status, check.conclusion) == ("completed", "failure")
    [old_check] = w.checks(old_head)
    assert old_check.status == "completed"
    # The ledger did not change: only the endpoint is shown to the model again.
    [body] = [r.json for r in w.llm.requests[shown_before:]]
    assert files_in(body) == [ENDPOINT]
    _, second = w.reviews(pr.number)
    assert second.commit_id == pr.head_sha
    assert [(c.path, c.line) for c in second.comments] == [(ENDPOINT, 15)]
    assert UNLOGGED in second.comments[0].body
    new_ids = {i for c in second.comments for i in finding_ids(c.body)}
    assert new_ids
    assert not new_ids & first_ids  # nothing said twice
    [summary] = w.summaries(pr.number)
    assert len(summary.edits) == 1  # the first summary, edited in place
    assert UNLOGGED in summary.body


def test_a_reader_is_refused_and_a_writer_gets_a_review(w: E2E) -> None:
    w.start_server()
    pr = w.pull()

    with w.github.lock:
        asked = w.github.add_issue_comment(w.repo, pr.number, "reader", "/backend-review")
    assert w.deliver("issue_comment", issue_comment_event(pr, asked)).status_code == 202

    [reply] = w.wait_for("a reply", lambda: w.bot_comments(pr.number))
    assert reply.body.startswith("Sorry @reader")
    w.wait_for("the command job finished", w.all_jobs_finished)
    assert [kind for kind, _, _ in w.jobs()] == ["command"]  # no review queued
    assert [r.content for r in asked.reactions] == ["eyes"]
    assert w.llm.requests == []
    assert w.checks() == []
    assert w.reviews(pr.number) == []

    with w.github.lock:
        asked = w.github.add_issue_comment(w.repo, pr.number, "maintainer", "/backend-review")
    assert w.deliver("issue_comment", issue_comment_event(pr, asked)).status_code == 202

    check = w.wait_for("completed check", lambda: w.completed_check(pr.head_sha))
    assert check.conclusion == "failure"
    assert [r.content for r in asked.reactions] == ["eyes"]
    [review] = w.reviews(pr.number)
    assert review.commit_id == pr.head_sha
    assert len(w.summaries(pr.number)) == 1
    assert len(w.llm.requests) == 1


def test_model_down_gives_neutral_unless_a_rule_blocks(w: E2E) -> None:
    w.llm.respond_with(lambda _: overloaded())
    w.start_server()

    quiet = opened(w, LEDGER_ONLY)
    blocked = opened(w, REFUNDS)

    neutral = w.wait_for("check of the quiet PR", lambda: w.completed_check(quiet.head_sha))
    failed = w.wait_for("check of the blocked PR", lambda: w.completed_check(blocked.head_sha))
    assert neutral.conclusion == "neutral"
    assert "the model was unavailable" in neutral.output["title"]
    [quiet_summary] = w.summaries(quiet.number)
    assert "Source changes without a test" in quiet_summary.body
    assert failed.conclusion == "failure"
    [review] = w.reviews(blocked.number)
    by_line = {(c.path, c.line): c.body for c in review.comments}
    assert "Stripe live key" in by_line[(ENDPOINT, 4)]
    assert "Stripe live key" in w.summaries(blocked.number)[0].body
    assert len(w.llm.requests) == 4  # two attempts per review, each answered 529


def test_a_worker_killed_mid_review_is_replaced_and_posts_once(w: E2E) -> None:
    # Both processes hold short leases: the lease the killed one took is what must expire.
    lease = {"BACKEND_REVIEW_JOB_LEASE_SECONDS": "2"}
    w.llm.enqueue(hang(60))  # the first model call never answers; later ones do
    first = w.start_server(**lease)
    pr = opened(w)
    w.wait_for(
        "check in progress", lambda: [c for c in w.checks(pr.head_sha) if c.status == "in_progress"]
    )
    w.wait_for("the model call", lambda: w.llm.requests)

    first.kill()

    assert [(kind, status) for kind, status, _ in w.jobs()] == [("review", "running")]
    w.start_server(**lease)
    check = w.wait_for("completed check", lambda: w.completed_check(pr.head_sha), timeout=20)
    w.wait_for("the job finished", w.all_jobs_finished)

    assert w.jobs() == [("review", "done", 2)]  # claimed again once the lease ran out
    assert check.conclusion == "failure"
    # The retried job completes the run the killed attempt opened: none is left spinning.
    assert w.checks(pr.head_sha) == [check]
    assert len(w.reviews(pr.number)) == 1
    assert len(w.summaries(pr.number)) == 1
    assert len(w.llm.requests) == 2
