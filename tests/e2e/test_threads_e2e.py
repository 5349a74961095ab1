"""Review threads end to end (`serve` as a process, the fake GitHub over HTTP with GHES' paths,
so GraphQL goes to /api/graphql): a command replied in a finding's thread is answered there,
and the push that fixes another finding resolves that finding's thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.review.render import posted_title
from tests.e2e import (
    E2E,
    ENDPOINT,
    REFUNDS,
    e2e_world,
    pull_request_event,
    repository_json,
)
from tests.fakes.anthropic_api import Answer, tool_answer
from tests.fakes.github_objects import Pull, ReviewComment
from tests.jobs.model_calls import answer, files_in, finding

pytestmark = pytest.mark.slow

UNCHECKED = "Refund amount is not checked against the order total"
SECRET_LINE = '+STRIPE_KEY = "sk_live_51HqLyjWDarjtT1zdp7dcXAMPLEkeyABCDEF"'


def model(body: dict[str, Any]) -> Answer:
    if body["tools"][0]["name"] == "explain_finding":
        return tool_answer({"reasoning": "A negative amount pays the customer twice."})
    found = (
        [finding(path=ENDPOINT, lines="11", title=UNCHECKED)] if ENDPOINT in files_in(body) else []
    )
    return tool_answer(answer(*found))


@pytest.fixture
def w(tmp_path: Path) -> Iterator[E2E]:
    with e2e_world(tmp_path) as world:
        world.llm.respond_with(model)
        yield world


def thread_reply_event(pull: Pull, reply: ReviewComment) -> dict[str, Any]:
    """GitHub's `pull_request_review_comment.created` for a reply the fake holds."""
    author = {"login": reply.user.login, "id": reply.user.id, "type": reply.user.type}
    return {
        "action": "created",
        "comment": {
            "id": reply.id, "body": reply.body, "user": author, "path": reply.path,
            "in_reply_to_id": reply.in_reply_to_id, "diff_hunk": reply.diff_hunk,
        },
        "pull_request": {"number": pull.number, "id": pull.id, "state": pull.state},
        "repository": repository_json(pull.repo),
        "sender": author,
        "installation": {"id": pull.repo.installation_id},
    }  # fmt: skip


def _ours_titled(w: E2E, pr: Pull, title: str) -> ReviewComment:
    [root] = [
        c for r in w.reviews(pr.number) for c in r.comments
        if c.in_reply_to_id is None and title in posted_title(c.body)
    ]  # fmt: skip
    return root


def _replies(w: E2E, root: ReviewComment) -> list[str]:
    with w.github.lock:
        return [c.body for r in w.github.reviews for c in r.comments if c.in_reply_to_id == root.id]


def test_explain_in_a_thread_then_a_fix_resolves_the_other_thread(w: E2E) -> None:
    w.start_server()
    pr = w.pull()
    assert w.deliver("pull_request", pull_request_event(pr, "opened")).status_code == 202
    w.wait_for("first check", lambda: w.completed_check(pr.head_sha))
    unchecked = _ours_titled(w, pr, UNCHECKED)
    secret = _ours_titled(w, pr, "Stripe live key")

    with w.github.lock:
        asked = w.github.add_thread_reply(unchecked, "maintainer", "/backend-review explain")
    assert (
        w.deliver("pull_request_review_comment", thread_reply_event(pr, asked)).status_code == 202
    )
    answered = w.wait_for("the explanation", lambda: _replies(w, unchecked)[1:])
    assert "A negative amount pays the customer twice." in answered[0]

    old_head = pr.head_sha
    with w.github.lock:
        w.github.force_push(pr, REFUNDS.replace(SECRET_LINE, '+STRIPE_KEY = env("KEY")'))
    sync = pull_request_event(pr, "synchronize", before=old_head)
    assert w.deliver("pull_request", sync).status_code == 202
    w.wait_for("check on the fix", lambda: w.completed_check(pr.head_sha))

    with w.github.lock:
        resolved = dict(w.github.resolved_threads)
    assert set(resolved) == {secret.id}  # the fixed finding's thread, nobody spoke in it
    assert unchecked.id not in resolved  # still found, and a person spoke in it
