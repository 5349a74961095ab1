"""One review, diff to plan: the rules, then the model over the diff's parts, then the plan.

Used by the CLI and by the worker's review job. The decisions (what goes in a prompt, how the
calls fit the budgets (`app.review.budget`), how answers are checked and merged, what the check
concludes) are the core's; this module runs the rules and decides whether the model is asked at
all (rules only, the daily budget spent, the CPU budget run out). The model calls are scheduled
in `app.jobs.model_schedule`, each part's answer loop is `app.jobs.model_part`, the result is
built in `app.jobs.model_result`, and with `model.verify` its blocking model findings get a
second look (`app.jobs.model_verify`) within the same budgets and deadline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from app.jobs.cpu_budget import CpuRunner, InlineCpu
from app.jobs.cpu_pool import OverBudget
from app.jobs.model_part import Expect, Spend
from app.jobs.model_result import (
    Outcome,
    ReviewResult,
    carried,
    context_notices,
    criteria_of,
    finish,
    plan_input,
    plan_of,
)
from app.jobs.model_schedule import run_parts
from app.jobs.model_verify import verified
from app.llm import ModelRequest, ReviewModel, Usage
from app.review.budget import ModelLimits, prepare_calls, review_budget
from app.review.chunking import estimate_tokens
from app.review.findings import Finding
from app.review.model_answer import TOOL_DESCRIPTION, TOOL_NAME, answer_schema
from app.review.request import ReviewRequest
from app.review.requirements import criteria_table, missing_issue_finding
from app.review.rules import ALL_RULES, rule_steps

log = logging.getLogger(__name__)


async def run_review(
    request: ReviewRequest,
    model: ReviewModel | None,
    limits: ModelLimits,
    *,
    rules_only_reason: str | None = None,
    model_unavailable: str | None = None,
    progress: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    cpu: CpuRunner | None = None,
) -> ReviewResult:
    """Review `request.diff`; with `model` None, on rules alone (saying `rules_only_reason`),
    or, given `model_unavailable` (the model was meant to review but cannot: a persona's
    unknown model), as a review the model did not finish: `incomplete` says why.

    The CPU steps (rules, planning and prompts, the plan) run on `cpu` (default: inline); when
    its budget runs out, what the rules found so far is published and the check fails."""
    cpu = cpu or InlineCpu()
    steps = await cpu.stream(rule_steps, request.diff, request.config.rule_context(), request.files)
    rules = [f for _, found in steps.items for f in found]
    if not steps.finished:
        done = {rule_id for rule_id, _ in steps.items}
        left = [
            r.id
            for r in ALL_RULES
            if r.id not in done and r.id not in request.config.rule_context().disabled
        ]
        more = f" and {len(left) - 1} more" if len(left) > 1 else ""
        return await _over_cpu_budget(
            request, rules, cpu, f"in the rules ({left[0] if left else '?'}{more} not run)", left
        )
    if request.missing_issue:
        rules.append(missing_issue_finding())
    if model is None and model_unavailable is not None:
        return await _rules_only(
            request, rules, cpu, note=None, incomplete=model_unavailable, outcome="unavailable"
        )
    if model is None:
        note = f"Rules only: {rules_only_reason}" if rules_only_reason else "Rules only"
        return await _rules_only(
            request, rules, cpu, note=note, incomplete=None, outcome="rules-only"
        )
    if limits.tokens_left_today is not None and limits.tokens_left_today <= 0:
        reason = "the installation's daily model budget is spent"
        return await _rules_only(
            request, rules, cpu, note=None, incomplete=reason, outcome="over-budget"
        )

    try:
        prepared = await cpu.run(prepare_calls, request, rules, limits)
    except OverBudget:
        return await _over_cpu_budget(request, rules, cpu, "in planning the model calls")
    chunks, over_budget = prepared.chunks, prepared.over_budget
    deadline = clock() + limits.deadline_seconds  # of the model's calls, from here on
    if not chunks.chunks and over_budget:
        return await _rules_only(
            request, rules, cpu, note=None, incomplete=over_budget, outcome="over-budget"
        )
    if not chunks.chunks:
        # Nothing for the model: every file is binary, ignored, or unchanged since the last
        # review (whose findings are carried). The review is complete as it is.
        result = await finish(request, rules, chunks, [], None, model.model, cpu)
        return await verified(
            result,
            request,
            model,
            limits,
            deadline=deadline,
            clock=clock,
            cpu=cpu,
            progress=progress,
        )

    criteria = criteria_of(request)
    schema = answer_schema(list(prepared.rule_ids))  # the same for every review of the repo
    expect = Expect(prepared.rule_ids, criteria=bool(criteria))
    requests = [
        ModelRequest(
            system=prepared.system,
            user=user,
            tool_name=TOOL_NAME,
            tool_description=TOOL_DESCRIPTION,
            input_schema=schema,
        )
        for user in prepared.users
    ]
    per_call = [
        sum(estimate_tokens(b) for b in r.system)
        + estimate_tokens(r.user)
        + limits.call_output_tokens
        for r in requests
    ]
    spend = Spend(review_budget(limits), per_call)
    results = await run_parts(model, requests, expect, limits, spend, progress, deadline)
    result = await finish(request, rules, chunks, results, over_budget, model.model, cpu)
    return await verified(
        result, request, model, limits, deadline=deadline, clock=clock, cpu=cpu, progress=progress
    )


async def _over_cpu_budget(
    request: ReviewRequest,
    rules: Sequence[Finding],
    cpu: CpuRunner,
    where: str,
    not_run: Sequence[str] = (),
) -> ReviewResult:
    """The budget ran out: publish what the rules found, list every file as not reviewed,
    and fail the check with the reason (never success: the rest was not looked at)."""
    reason = f"the review ran past its CPU budget of {cpu.seconds or 0:g} s {where}"
    log.warning("review stopped: %s", reason)
    made_from = replace(
        plan_input(request, [*rules, *carried(request)]),
        incomplete=reason,
        failed=reason,
        notices=[
            *request.notices,
            *([f"Rules not run: {', '.join(not_run)}"] if not_run else []),
        ],
        not_reviewed={
            **{p: f"not fully reviewed: {reason}" for p in request.diff.paths},
            **request.not_reviewed,
        },
    )
    return ReviewResult(
        plan=await plan_of(cpu, made_from),
        made_from=made_from,
        outcome="over-cpu-budget",
        usage=Usage(),
        calls=0,
        model=None,
        incomplete=reason,
    )


async def _rules_only(
    request: ReviewRequest,
    rules: Sequence[Finding],
    cpu: CpuRunner,
    *,
    note: str | None,
    incomplete: str | None,
    outcome: Outcome,
) -> ReviewResult:
    notices = [*request.notices, *([note] if note else [])]
    criteria = criteria_of(request)
    table = criteria_table(criteria, {}) if criteria else None
    made_from = replace(
        plan_input(request, [*rules, *carried(request)]),
        incomplete=incomplete,
        notices=context_notices(notices, request, has_summary=False),
        not_reviewed=request.not_reviewed,
        requirements=table,
    )
    return ReviewResult(
        plan=await plan_of(cpu, made_from),
        made_from=made_from,
        outcome=outcome,
        usage=Usage(),
        calls=0,
        model=None,
        incomplete=incomplete,
        requirements=table,
    )
