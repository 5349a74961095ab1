"""Merge queues, re-runs on a fork's commit, closed pull requests, and the API call budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.payloads import ClosedJob, MergeGroupJob, RerunJob, review_key
from app.store.jobs import NewJob
from tests.fakes.anthropic_api import tool_answer
from tests.jobs import REFUNDS, World, world
from tests.jobs.model_calls import answer, finding

LEDGER_ONLY = REFUNDS[REFUNDS.index("diff --git a/app/services/ledger.py") :]


@pytest.fixture
async def w(engine: AsyncEngine, tmp_path: Path) -> Any:
    async with world(engine, tmp_path) as built:
        built.llm.respond_with(lambda _: tool_answer(answer()))
        yield built


def merge_group(w: World, ref: str) -> NewJob:
    if "9" * 40 not in w.repo.commits:
        main = w.repo.branches["main"]
        w.github.commit(w.repo, "Merge group", parents=[main], sha="9" * 40)
    job = MergeGroupJob(
        installation_id=w.repo.installation_id,
        repository=w.repo.full_name,
        repository_id=w.repo.id,
        head_sha="9" * 40,
        head_ref=ref,
        base_ref="refs/heads/main",
    )
    return NewJob("merge_group", job.model_dump())


@pytest.mark.parametrize(("diff", "verdict"), [(REFUNDS, "failure"), (LEDGER_ONLY, "success")])
async def test_a_merge_group_gets_the_verdict_of_the_pr_it_adds(
    w: World, diff: str, verdict: str
) -> None:
    pr = w.pull(diff)
    await w.run(w.review_job(pr))

    await w.run(merge_group(w, f"refs/heads/gh-readonly-queue/main/pr-{pr.number}-{pr.head_sha}"))

    [check] = w.github.check_runs_for(w.repo, "9" * 40, "backend-review")
    assert (check.status, check.conclusion) == ("completed", verdict)


async def test_a_merge_group_for_an_unreviewed_pr_or_an_odd_branch_fails(w: World) -> None:
    pr = w.pull(LEDGER_ONLY)

    await w.run(merge_group(w, f"refs/heads/gh-readonly-queue/main/pr-{pr.number}-{pr.head_sha}"))
    await w.run(merge_group(w, "refs/heads/some-branch"))

    checks = w.github.check_runs_for(w.repo, "9" * 40, "backend-review")
    assert [c.conclusion for c in checks] == ["failure", "failure"]
    assert "has no completed backend-review check" in checks[0].output["title"]


async def test_a_rerun_without_a_pr_in_its_event_finds_the_pr_by_commit(w: World) -> None:
    pr = w.pull(LEDGER_ONLY)
    rerun = RerunJob(
        installation_id=w.repo.installation_id,
        repository=w.repo.full_name,
        repository_id=w.repo.id,
        head_sha=pr.head_sha,
        trigger="check_run.rerequested",
    )

    await w.run(NewJob("rerun", rerun.model_dump()))
    review = await w.run_next()

    assert review.kind == "review"
    assert review.payload["number"] == pr.number
    assert w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")


async def test_closing_a_pr_cancels_its_queued_review(w: World) -> None:
    pr = w.pull()
    await w.queue.enqueue([w.review_job(pr)])
    closed = ClosedJob(
        installation_id=w.repo.installation_id,
        repository=w.repo.full_name,
        repository_id=w.repo.id,
        number=pr.number,
    )

    await w.run(
        NewJob("closed", closed.model_dump(), coalesce_key=review_key(w.repo.id, pr.number))
    )

    assert await w.queue.claim() is None
    assert w.github.check_runs_for(w.repo) == []


DIFF_20_FILES = "".join(
    f"diff --git a/app/services/s{i}.py b/app/services/s{i}.py\nnew file mode 100644\n"
    f"--- /dev/null\n+++ b/app/services/s{i}.py\n@@ -0,0 +1,3 @@\n"
    f"+def handler_{i}(request):\n+    value = request.json()\n+    return save(value)\n"
    for i in range(20)
)


async def test_one_review_of_a_20_file_pr_with_30_findings_takes_at_most_10_calls(
    w: World,
) -> None:
    findings = [
        finding(path=f"app/services/s{i % 20}.py", lines=str(1 + i // 20), title=f"Problem {i}")
        for i in range(30)
    ]
    w.llm.respond_with(lambda _: tool_answer(answer(*findings)))
    pr = w.pull(DIFF_20_FILES)
    await w.ctx.github.bot_login()  # once per process, not per review
    before = len(w.calls())

    await w.run(w.review_job(pr))

    calls = w.calls()[before:]
    [review] = w.github.reviews_on(w.repo, pr.number)
    assert len(review.comments) >= 30
    assert len(calls) <= 10, calls
    print(f"GitHub API calls for one review (20 files, {len(review.comments)} comments):")
    for call in calls:
        print(f"  {call}")
