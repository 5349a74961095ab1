"""What a review ends as: its plan, built from the rules' findings and the model parts' results,
with the outcome (complete, partial, unusable, …), the usage and the reason it is incomplete.
Whatever the model did, the result is a plan: at worst the rules' findings with a note saying
what the model could not do and a `neutral` check instead of `success`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from app.errors import PermanentJobError
from app.jobs.cpu_budget import CpuRunner
from app.jobs.cpu_pool import OverBudget
from app.jobs.model_part import PartResult
from app.llm import Usage
from app.review.chunking import Chunk, ChunkPlan
from app.review.findings import Finding, ReviewSummary
from app.review.model_answer import ModelAnswer
from app.review.model_merge import merge_model_findings, merge_summaries
from app.review.plan import PlanInput, ReviewPlan, build_plan
from app.review.request import ReviewRequest
from app.review.requirements import Criteria, combine, criteria_table, unmet_findings

Outcome = Literal[
    "complete", "partial", "unusable", "unavailable", "over-budget", "over-cpu-budget", "rules-only"
]


@dataclass(frozen=True, slots=True)
class ReviewResult:
    plan: ReviewPlan
    made_from: PlanInput  # what the plan was built from, to build it again with one more notice
    outcome: Outcome
    usage: Usage
    calls: int  # HTTP attempts, retries and repair turns included
    model: str | None
    # One per part sent to the model: ok, retried (answered after a retry or a repair turn),
    # unusable, unavailable or rejected; what the call counter in /metrics is labelled by.
    part_outcomes: tuple[str, ...] = ()
    incomplete: str | None = None  # why the review is not complete (the check's reason)
    requirements: str | None = None  # the linked issues' criteria table, when there are any
    # `model.verify`'s verdicts: model finding id -> None (confirmed) or why it does not block.
    verdicts: Mapping[str, str | None] = field(default_factory=dict)


def plan_input(request: ReviewRequest, findings: Sequence[Finding]) -> PlanInput:
    """What every plan of `request` takes from it (the diff, the config, the dismissals, what
    is already on the pull request), with `findings`; the rest is set with `replace`."""
    return PlanInput(
        request.diff,
        list(findings),
        request.config,
        dismissed=request.dismissed,
        dismissals=request.dismissals,
        pr_author=request.pr_author,
        previous=request.previous,
        resolved_in=request.resolved_in,
    )


async def plan_of(cpu: CpuRunner, made_from: PlanInput) -> ReviewPlan:
    try:
        return await cpu.finish(build_plan, made_from)
    except OverBudget as exc:
        raise PermanentJobError(
            f"the review ran past its CPU budget and even its plan could not be built ({exc})"
        ) from None


async def finish(
    request: ReviewRequest,
    rules: Sequence[Finding],
    chunks: ChunkPlan,
    results: Sequence[PartResult],
    over_budget: str | None,
    model_name: str,
    cpu: CpuRunner,
) -> ReviewResult:
    usage = sum((r.usage for r in results), Usage())
    calls = sum(r.calls for r in results)
    answers = [r.answer for r in results if r.answer is not None]
    not_reviewed = dict(chunks.not_reviewed)
    failures: list[str] = []
    for chunk, result in zip(chunks.chunks, results, strict=True):
        if result.failure is not None:
            failures.append(result.failure)
            _mark_unreviewed(not_reviewed, chunk, result.failure)

    model_findings = [f for a in answers for f in a.findings]
    merged = merge_model_findings(request.diff, rules, model_findings, request.config)
    criteria = criteria_of(request)
    verdicts = combine(criteria, [v for a in answers for v in a.criteria])
    unmet = unmet_findings(criteria, verdicts)
    table = criteria_table(criteria, verdicts) if criteria else None
    notices = list(request.notices)
    if merged.invented_paths:
        notices.append(
            f"{len(merged.invented_paths)} model finding(s) named files this pull request "
            "does not change and were dropped"
        )
    notices += _answer_notes(answers)
    failed = len(failures)
    if failed == 0:
        outcome: Outcome = "over-budget" if over_budget else "complete"
        incomplete = over_budget
    elif failed == len(results) and not any(_kept(r) for r in results):
        kinds = {"unusable" if r.kind == "cut" else r.kind for r in results}
        outcome = "unusable" if kinds == {"unusable"} else "unavailable"
        incomplete = f"{failures[0]}; the rules' findings are shown"
    else:
        # Also when every part failed but one still gave findings or a summary (cut off at the
        # output limit, no summary after the repair, an outage after a cut answer): those are
        # published, so the review is partial, not "the rules' findings are shown".
        outcome = "partial"
        incomplete = (
            f"{failed} of {len(results)} part(s) were not fully reviewed by the model "
            f"({failures[0]})"
        )
        if over_budget:
            incomplete += f"; {over_budget}"
    made_from = replace(
        plan_input(request, [*rules, *carried(request), *merged.findings, *unmet]),
        summary=_with_missing_context(
            merge_summaries([a.summary for a in answers if a.summary is not None]), request
        ),
        incomplete=incomplete,
        notices=context_notices(
            notices, request, has_summary=any(a.summary is not None for a in answers)
        ),
        not_reviewed={**request.not_reviewed, **not_reviewed},
        requirements=table,
    )
    return ReviewResult(
        plan=await plan_of(cpu, made_from),
        made_from=made_from,
        outcome=outcome,
        usage=usage,
        calls=calls,
        model=model_name,
        part_outcomes=tuple(_part_outcome(r) for r in results),
        incomplete=incomplete,
        requirements=table,
    )


def _answer_notes(answers: Sequence[ModelAnswer]) -> list[str]:
    """What was dropped or cut from the answers (kept ones; a failed part says its own)."""
    n = len(answers)
    out: list[str] = []
    for i, answer in enumerate(answers, 1):
        part = f"part {i}/{n}: " if n > 1 else ""
        out += [f"Model answer, {part}{note}" for note in answer.notes]
    return out


def _kept(result: PartResult) -> bool:
    """A part that did not finish but whose findings or summary are kept."""
    answer = result.answer
    return answer is not None and bool(answer.findings or answer.summary)


def _part_outcome(result: PartResult) -> str:
    if result.kind == "ok":
        return "retried" if result.calls > 1 else "ok"
    if result.kind == "cut":
        return "unusable"  # the metric's label: the answer did not finish
    return "rejected" if result.kind == "refused" else result.kind


def _mark_unreviewed(not_reviewed: dict[str, str], chunk: Chunk, failure: str) -> None:
    """Say why the model did not see this chunk's files, after any reason already given (a
    hunk too big for a call, another failed part of the same file)."""
    for part in chunk.parts:
        path = part.file.path
        if part.parts > 1:
            reason = f"part {part.part} of {part.parts} not reviewed: {failure}"
        else:
            reason = failure
        earlier = not_reviewed.get(path)
        not_reviewed[path] = f"{earlier}; {reason}" if earlier else reason


def carried(request: ReviewRequest) -> list[Finding]:
    """The last review's model findings on files this review does not send to the model."""
    scope = request.model_scope
    if scope is None:
        return []
    return [
        f
        for f in request.carried
        if f.where.path not in scope and request.diff.file(f.where.path) is not None
    ]


def criteria_of(request: ReviewRequest) -> list[Criteria]:
    return [
        Criteria(ticket=t.identifier, title=t.title, url=t.url, items=t.criteria)
        for t in request.tickets
        if t.criteria
    ]


def _with_missing_context(
    summary: ReviewSummary | None, request: ReviewRequest
) -> ReviewSummary | None:
    """The model's summary with what we could not give it (unread issues) added."""
    if summary is None or not request.missing():
        return summary
    missing = [*request.missing(), *summary.missing_context]
    return summary.model_copy(update={"missing_context": missing})


def context_notices(
    notices: Sequence[str], request: ReviewRequest, *, has_summary: bool
) -> list[str]:
    """Without a model summary, what could not be read goes at the top of the summary."""
    if has_summary:
        return list(notices)
    return [*notices, *(f"Missing context: {m}" for m in request.missing())]
