"""The review job reads the changed files whole: one GraphQL call, the model sees the code
around the hunks, and a failure leaves the hunks with a note, never a failed review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fakes.anthropic_api import tool_answer
from tests.jobs import LEDGER, World, world
from tests.jobs.model_calls import answer

FILLER = [f"# bookkeeping note {n}" for n in range(24)]
LEDGER_BASE = "\n".join(
    [
        *[f"# ledger {n}" for n in range(1, 9)],
        "def post_entry(entry):",  # 9
        "    validate(entry)",
        "    db.add(entry)",
        "    return entry",
        "",
        "",
        *FILLER,  # 15-38
        "def reverse(entry):",  # 39
        "    undo = entry.reversed()",
        "    db.add(undo)",
        "    return undo",
        "",
    ]
)
LEDGER_HEAD = LEDGER_BASE.replace(
    "    db.add(entry)\n", "    db.add(entry)\n    db.flush()\n"
).replace("    db.add(undo)\n", "    db.add(undo)\n    audit(undo)\n")


@pytest.fixture
async def w(engine: AsyncEngine, tmp_path: Path) -> Any:
    async with world(engine, tmp_path) as built:
        built.llm.respond_with(lambda body: tool_answer(answer()))
        yield built


def _ledger_files(w: World, head_sha: str, base_sha: str) -> None:
    w.github.set_file(w.repo, head_sha, LEDGER, LEDGER_HEAD)
    w.github.set_file(w.repo, base_sha, LEDGER, LEDGER_BASE)


def _user(w: World) -> str:
    content = w.llm.bodies[0]["messages"][0]["content"]
    return content if isinstance(content, str) else "".join(b["text"] for b in content)


async def test_a_first_review_reads_the_files_in_one_call_and_shows_the_functions(
    w: World,
) -> None:
    pr = w.pull()
    _ledger_files(w, pr.head_sha, pr.base_sha)

    await w.run(w.review_job(pr))

    calls = w.calls()
    assert calls.count("POST /graphql") == 1
    sent = w.github.calls_to("POST", r"graphql$")[0].json["variables"]
    assert f"{pr.head_sha}:{LEDGER}" in sent.values()
    user = _user(w)
    assert "[in def post_entry; unchanged lines of the head file marked =]" in user
    assert "    9 =def post_entry(entry):" in user
    assert "def reverse (lines 40-44)" in user  # the outline
    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert check.status == "completed"


async def test_a_graphql_failure_leaves_the_hunks_and_says_so(w: World) -> None:
    pr = w.pull()
    _ledger_files(w, pr.head_sha, pr.base_sha)
    w.github.fail_next("POST", r"graphql$", 502, times=3)

    await w.run(w.review_job(pr))

    assert "=def post_entry" not in _user(w)
    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert check.status == "completed"
    [summary] = [c for c in w.github.issue_comments_on(w.repo, pr.number) if "<!--" in c.body]
    assert "whole files could not be read from GitHub (GitHub answered 502" in summary.body
