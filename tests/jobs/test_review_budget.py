"""A review's CPU work in worker processes under a budget: the same plan as inline when it fits;
past the budget the process is replaced, what finished is published, every file is listed as
not fully reviewed, and the check fails with the reason — never success."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import PermanentJobError
from app.jobs.cpu_budget import InlineCpu, ReviewCpu
from app.jobs.cpu_pool import CpuPool
from app.jobs.model_calls import run_review
from app.review.markers import is_summary
from tests.fakes.anthropic_api import tool_answer
from tests.jobs import REFUNDS, World, world
from tests.jobs.model_calls import answer, limits, request

CORE = ("app.review.diff", "app.review.rules", "app.review.budget", "app.review.plan")


@pytest.fixture
async def pool() -> AsyncIterator[CpuPool]:
    built = CpuPool(1, preload=CORE)
    await built.start()
    try:
        yield built
    finally:
        await built.aclose()


async def test_within_the_budget_the_plan_is_the_one_made_inline(pool: CpuPool) -> None:
    inline = await run_review(request(), None, limits(), cpu=InlineCpu())
    pooled = await run_review(request(), None, limits(), cpu=ReviewCpu(pool, 60))

    assert pooled.plan == inline.plan
    assert pooled.outcome == "rules-only"
    assert pooled.plan.conclusion == "failure"  # the hard-coded key, found in the worker
    assert pool.replaced == 0


async def test_rules_past_the_budget_fail_closed_and_list_every_file(pool: CpuPool) -> None:
    req = request()

    result = await run_review(req, None, limits(), cpu=ReviewCpu(pool, 0))

    assert result.outcome == "over-cpu-budget"
    assert result.plan.conclusion == "failure"
    assert result.plan.check_title.startswith(
        "Review could not finish: the review ran past its CPU budget of 0 s in the rules ("
    )
    assert {n.path for n in result.plan.not_reviewed} == set(req.diff.paths)
    assert all("not fully reviewed" in n.reason for n in result.plan.not_reviewed)
    assert pool.replaced == 1  # the process that was working is gone
    # The pool works on: the next review, with room, finishes.
    again = await run_review(req, None, limits(), cpu=ReviewCpu(pool, 60))
    assert again.outcome == "rules-only"


async def test_the_model_is_not_asked_when_the_rules_ran_out(pool: CpuPool) -> None:
    result = await run_review(
        request(), None, limits(), cpu=ReviewCpu(pool, 0), rules_only_reason="off"
    )
    assert result.calls == 0
    assert "Rules only" not in result.plan.summary_body


# --- through the review job and the fake GitHub ---------------------------------------------


@pytest.fixture
async def w(engine: AsyncEngine, tmp_path: Path) -> Any:
    async with world(engine, tmp_path, review_cpu_seconds=0.001) as built:
        built.llm.respond_with(lambda _: tool_answer(answer()))
        built.ctx.cpu = CpuPool(1, preload=CORE)  # closed with the context
        await built.ctx.cpu.start()
        yield built


async def test_a_review_whose_rules_overrun_completes_its_check_as_failure(w: World) -> None:
    pr = w.pull()

    await w.run(w.review_job(pr))

    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert (check.status, check.conclusion) == ("completed", "failure")
    assert check.output["title"].startswith(
        "Review could not finish: the review ran past its CPU budget of 0.001 s in the rules"
    )
    [summary] = [c for c in w.github.issue_comments_on(w.repo, pr.number) if is_summary(c.body)]
    assert "<b>Files not reviewed</b>" in summary.body
    assert "not fully reviewed: the review ran past its CPU budget" in summary.body
    [not_run] = [line for line in summary.body.splitlines() if "Rules not run: " in line]
    # The secrets rule runs first: when it finished within the budget its finding is published,
    # otherwise it is listed as not run.
    secrets_ran = "hardcoded-secret" not in not_run
    assert ("Stripe live key" in summary.body) is secrets_ran
    assert w.llm.requests == []
    assert w.ctx.cpu is not None
    assert w.ctx.cpu.replaced == 1


async def test_a_diff_that_cannot_be_parsed_within_the_budget_fails_the_check(w: World) -> None:
    body = "".join(f"+line {i} of a long file\n" for i in range(4_000))
    big = (
        "diff --git a/app/big.py b/app/big.py\nnew file mode 100644\n--- /dev/null\n"
        f"+++ b/app/big.py\n@@ -0,0 +1,4000 @@\n{body}"
    )
    assert len(big) > 32_768  # parsed in a worker process, not in place
    pr = w.pull(big)

    with pytest.raises(PermanentJobError, match="could not be read within the review's CPU budget"):
        await w.run(w.review_job(pr))

    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert (check.status, check.conclusion) == ("completed", "failure")
    assert "CPU budget" in check.output["summary"]


def test_refunds_is_small_enough_to_parse_in_place() -> None:
    assert len(REFUNDS) <= 32_768
