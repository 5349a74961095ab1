"""`/backend-review` commands: who may run them, what each does, and the 👀 at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.payloads import CommandJob
from app.store.jobs import NewJob
from tests.conftest import FakeClock
from tests.fakes.anthropic_api import tool_answer
from tests.jobs import LEDGER, REFUNDS, World, world
from tests.jobs.model_calls import answer

LEDGER_ONLY = REFUNDS[REFUNDS.index("diff --git a/app/services/ledger.py") :]


@pytest.fixture
async def w(engine: AsyncEngine, tmp_path: Path) -> Any:
    async with world(engine, tmp_path) as built:
        built.llm.respond_with(lambda _: tool_answer(answer()))
        yield built


def command(w: World, number: int, author: str, body: str) -> NewJob:
    comment = w.github.add_issue_comment(w.repo, number, author, body)
    job = CommandJob(
        installation_id=w.repo.installation_id,
        repository=w.repo.full_name,
        repository_id=w.repo.id,
        number=number,
        comment_id=comment.id,
        author=author,
        body=body,
    )
    return NewJob("command", job.model_dump())


def replies(w: World, number: int) -> list[str]:
    return [
        c.body
        for c in w.github.issue_comments_on(w.repo, number)
        if "backend-review:summary" not in c.body
    ]


def reactions(w: World, number: int) -> list[str]:
    return [
        r.content
        for c in w.github.issue_comments_on(w.repo, number, by_bot=False)
        for r in c.reactions
    ]


async def test_a_reader_is_refused_politely_and_nothing_runs(w: World) -> None:
    pr = w.pull()

    await w.run(command(w, pr.number, "reader", "/backend-review"))

    assert reactions(w, pr.number) == ["eyes"]
    [reply] = replies(w, pr.number)
    assert reply.startswith("Sorry @reader")
    assert await w.queue.claim() is None  # no review queued
    assert w.llm.requests == []
    assert w.github.check_runs_for(w.repo) == []


async def test_a_writer_gets_a_review(w: World) -> None:
    pr = w.pull()

    await w.run(command(w, pr.number, "maintainer", "/backend-review"))
    review = await w.run_next()

    assert review.kind == "review"
    assert reactions(w, pr.number) == ["eyes"]
    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert check.conclusion == "failure"
    assert len(w.llm.requests) == 1


async def test_help_and_unknown_commands_answer_with_the_help(w: World) -> None:
    pr = w.pull()

    await w.run(command(w, pr.number, "maintainer", "/backend-review help"))
    await w.run(command(w, pr.number, "maintainer", "/backend-review approve"))

    first, second = replies(w, pr.number)
    assert "| `/backend-review ignore <finding-id> <reason>` |" in first
    assert second.startswith("unknown command `approve`.")
    assert await w.queue.claim() is None


async def test_config_shows_the_base_branch_config_and_persona(w: World) -> None:
    w.github.set_file(w.repo, "main", ".github/backend-review.yml", "max_files: 30\n")
    pr = w.pull()

    await w.run(command(w, pr.number, "maintainer", "/backend-review config"))

    [reply] = replies(w, pr.number)
    assert "max_files: 30" in reply
    assert "**Persona:** `backend-engineer`" in reply


async def test_ignore_dismisses_a_finding_and_the_gate_follows(w: World) -> None:
    pr = w.pull(LEDGER_ONLY)
    # A blocking model finding on the ledger.
    blocking = {
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
    w.llm.respond_with(lambda _: tool_answer(answer(blocking)))
    await w.run(w.review_job(pr))
    [first] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert first.conclusion == "failure"
    [comment] = w.github.review_comments_on(w.repo, pr.number)
    finding_id = comment.body.rsplit("finding ", 1)[1].split(" ")[0]

    w.ctx.now = FakeClock()
    await w.run(command(w, pr.number, "maintainer", f"/backend-review ignore {finding_id} ok"))
    await w.run_next()  # the review it queued

    assert await w.ctx.store.dismissals(w.repo.id, pr.number) == {finding_id: "by @maintainer: ok"}
    checks = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert checks[-1].conclusion == "success"
    summary = next(c for c in w.github.issue_comments_on(w.repo, pr.number) if "summary" in c.body)
    assert (
        f"`{finding_id}` Entry written without a transaction — by @\u200bmaintainer on "
        "2026-11-22 12:00 UTC: ok" in summary.body
    )
    assert len(w.llm.requests) == 1  # the re-review did not ask the model again


async def test_ignore_with_a_bad_id_explains_and_changes_nothing(w: World) -> None:
    pr = w.pull()

    await w.run(command(w, pr.number, "maintainer", "/backend-review ignore nope because"))

    [reply] = replies(w, pr.number)
    assert "`nope` is not a finding id" in reply
    assert await w.ctx.store.dismissals(w.repo.id, pr.number) == {}


async def test_config_reports_globs_too_large_to_compile(w: World) -> None:
    text = "ignore:\n" + "".join(f"  - 'd{i}/{'?' * 985}'\n" for i in range(20))
    w.github.set_file(w.repo, "main", ".github/backend-review.yml", text)
    pr = w.pull()

    await w.run(command(w, pr.number, "maintainer", "/backend-review config"))

    [reply] = replies(w, pr.number)
    assert "The file could not be used, so the defaults apply:" in reply
    assert "ignore: these 20 globs together are too large for the glob matcher" in reply
