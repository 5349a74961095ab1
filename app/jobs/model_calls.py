"""One review, diff to plan: the rules, then the model over the diff's parts, then the plan.

Used by the CLI and by the worker's review job. The decisions (what goes in a prompt, how the
calls fit the budgets (`app.review.budget`), how answers are checked and merged, what the check
concludes) are the core's; this module only runs the model calls: concurrently with a bound,
under one deadline, with one repair turn per part. The first part goes alone and the others
once its response has begun, when the API has cached the prompt's prefix they share (sent
together, every part would pay to write that entry and none would read it). Whatever the
model does, the result is a plan: at worst the rules' findings with a note saying what the
model could not do and a `neutral` check instead of `success`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from app.errors import PermanentJobError
from app.jobs.cpu_budget import CpuRunner, InlineCpu
from app.jobs.cpu_pool import OverBudget
from app.llm import LLMError, LLMRejected, ModelReply, ModelRequest, Repair, ReviewModel, Usage
from app.review.budget import ModelLimits, prepare_calls, review_budget
from app.review.chunking import Chunk, ChunkPlan, estimate_tokens
from app.review.findings import Finding, ReviewSummary
from app.review.model_answer import (
    TOOL_DESCRIPTION,
    TOOL_NAME,
    AnswerError,
    ModelAnswer,
    answer_schema,
    parse_answer,
    parse_cut_answer,
)
from app.review.model_merge import merge_model_findings, merge_summaries
from app.review.plan import PlanInput, ReviewPlan, build_plan
from app.review.request import ReviewRequest
from app.review.requirements import (
    Criteria,
    combine,
    criteria_table,
    missing_issue_finding,
    unmet_findings,
)
from app.review.rules import ALL_RULES, rule_steps

log = logging.getLogger(__name__)

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


class _Spend:
    """The review's token budget while its calls run: what the answers so far cost, plus what
    the parts not yet answered are expected to cost. A repair turn is a second call the plan
    did not budget for: it is made only if it still fits."""

    def __init__(self, limit: int, expected: Sequence[int]) -> None:
        self.limit = limit
        self.spent = 0
        self._pending = list(expected)

    def answered(self, part: int, usage: Usage) -> None:
        self.spent += usage.total
        self._pending[part] = 0

    def allows(self, tokens: int) -> bool:
        return self.spent + sum(self._pending) + tokens <= self.limit


@dataclass(frozen=True, slots=True)
class _Expect:
    """What a valid answer may contain: the rule ids, and whether criteria verdicts are due."""

    rule_ids: tuple[str, ...]
    criteria: bool


@dataclass(frozen=True, slots=True)
class _PartResult:
    answer: ModelAnswer | None
    failure: str | None  # why the part did not finish (`answer` keeps what was valid)
    # rejected: refused for the whole review (key, model); refused: this request only;
    # cut: the answer stopped at the output limit (its complete findings are in `answer`)
    kind: Literal["ok", "unusable", "unavailable", "rejected", "refused", "cut"]
    usage: Usage
    calls: int


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
    if not chunks.chunks and over_budget:
        return await _rules_only(
            request, rules, cpu, note=None, incomplete=over_budget, outcome="over-budget"
        )
    if not chunks.chunks:
        # Nothing for the model: every file is binary, ignored, or unchanged since the last
        # review (whose findings are carried). The review is complete as it is.
        return await _finish(request, rules, chunks, [], None, model.model, cpu)

    criteria = _criteria_of(request)
    schema = answer_schema(list(prepared.rule_ids))  # the same for every review of the repo
    expect = _Expect(prepared.rule_ids, criteria=bool(criteria))
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
    spend = _Spend(review_budget(limits), per_call)
    results = await _run_parts(model, requests, expect, limits, spend, progress, clock)
    return await _finish(request, rules, chunks, results, over_budget, model.model, cpu)


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
    made_from = PlanInput(
        request.diff,
        [*rules, *_carried(request)],
        request.config,
        dismissed=request.dismissed,
        dismissals=request.dismissals,
        pr_author=request.pr_author,
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
        previous=request.previous,
        resolved_in=request.resolved_in,
    )
    return ReviewResult(
        plan=await _plan(cpu, made_from),
        made_from=made_from,
        outcome="over-cpu-budget",
        usage=Usage(),
        calls=0,
        model=None,
        incomplete=reason,
    )


async def _plan(cpu: CpuRunner, made_from: PlanInput) -> ReviewPlan:
    try:
        return await cpu.finish(build_plan, made_from)
    except OverBudget as exc:
        raise PermanentJobError(
            f"the review ran past its CPU budget and even its plan could not be built ({exc})"
        ) from None


async def _run_parts(
    model: ReviewModel,
    requests: Sequence[ModelRequest],
    expect: _Expect,
    limits: ModelLimits,
    spend: _Spend,
    progress: Callable[[str], None] | None,
    clock: Callable[[], float],
) -> list[_PartResult]:
    deadline = clock() + limits.deadline_seconds
    gate = asyncio.Semaphore(limits.concurrency)
    rejected: list[str] = []  # once the API refuses us (bad key, bad model), stop asking
    reviewed = 0

    def report(index: int, result: _PartResult) -> None:
        # Only a part the model answered in full counts as reviewed, so a progress line never
        # says "reviewed" before the notice that the model was unavailable.
        nonlocal reviewed
        if progress is None:
            return
        if result.kind == "ok":
            reviewed += 1
            progress(f"model: {reviewed}/{len(requests)} part(s) reviewed")
        else:
            what = "partly reviewed" if result.answer is not None else "not reviewed"
            progress(f"model: part {index + 1} of {len(requests)} {what}")

    # Set when the first part's response begins, when an attempt of it fails before that, or
    # when the part ends however it ends: the others never wait longer than one attempt.
    first_began = asyncio.Event()

    async def one(index: int, req: ModelRequest) -> _PartResult:
        if index > 0:
            await first_began.wait()
        async with gate:
            if rejected:
                result = _PartResult(None, rejected[0], "unavailable", Usage(), 0)
            else:
                began = first_began if index == 0 else None
                result = await _review_part(
                    model, req, expect, deadline, spend, index, limits, began
                )
        if result.kind == "rejected" and result.failure:
            rejected.append(result.failure)
        report(index, result)
        return result

    tasks = [asyncio.create_task(one(i, req)) for i, req in enumerate(requests)]
    tasks[0].add_done_callback(lambda _: first_began.set())  # failed before it began, too
    # The adapter keeps to the deadline; this is the backstop if anything does not.
    finished, pending = await asyncio.wait(tasks, timeout=limits.deadline_seconds + 10)
    for task in pending:
        task.cancel()
    results: list[_PartResult] = []
    for task in tasks:
        if task in finished and not task.cancelled() and task.exception() is None:
            results.append(task.result())
        elif task in finished and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]  # a bug of ours: let it be seen
        else:
            results.append(
                _PartResult(None, "the review's deadline passed", "unavailable", Usage(), 0)
            )
    return results


async def _review_part(
    model: ReviewModel,
    request: ModelRequest,
    expect: _Expect,
    deadline: float,
    spend: _Spend,
    index: int,
    limits: ModelLimits,
    started: asyncio.Event | None = None,
) -> _PartResult:
    """One part: its answer; if that was cut off at the output limit, one retry with a larger
    limit (the complete findings of the cut answer kept); one repair turn for what is still
    missing (the summary, or an answer through the tool)."""
    usage, calls = Usage(), 0
    repair: Repair | None = None
    kept: ModelAnswer | None = None  # what is valid so far, while a later call completes it
    larger: int | None = None  # the retry's output limit, once an answer was cut off
    for _ in range(3):
        try:
            reply = await model.review(
                replace(
                    request,
                    repair=repair,
                    max_output_tokens=larger or request.max_output_tokens,
                ),
                deadline=deadline,
                started=started,
            )
        except LLMRejected as exc:
            failure = f"the model API refused the request: {exc.reason}"
            kind: Literal["rejected", "refused"] = "rejected" if exc.fatal else "refused"
            return _PartResult(kept, failure, kind, usage, calls + exc.attempts)
        except LLMError as exc:
            failure = f"the model was unavailable: {exc.reason}"
            return _PartResult(kept, failure, "unavailable", usage, calls + exc.attempts)
        usage, calls = usage + reply.usage, calls + reply.attempts
        spend.answered(index, reply.usage)
        if reply.stop_reason == "refusal":
            # Final for this part: asking again is paid for and refused again.
            failure = "the model refused to review this part (stop reason: refusal)"
            return _PartResult(kept, failure, "refused", usage, calls)
        if reply.stop_reason == "max_tokens":
            cut = parse_cut_answer(
                reply.tool_input, rule_ids=expect.rule_ids, criteria=expect.criteria
            )
            kept = cut if kept is None else kept.followed_by(cut)
            limit = (
                reply.output_limit
                or larger
                or request.max_output_tokens
                or limits.max_output_tokens
            )
            given_up = _cut_short(limit, limits, spend, reply, larger=larger, repair=repair)
            if given_up is not None:
                log.warning("model answer cut off at %d output tokens: %s", limit, given_up)
                return _PartResult(kept, _kept_of(given_up, kept), "cut", usage, calls)
            larger, repair = _larger_limit(limit, limits), None
            continue
        got = _problems(reply, expect)
        if isinstance(got, ModelAnswer):
            if kept is not None:
                got = kept.followed_by(got)
            if got.summary is not None:
                return _PartResult(got, None, "ok", usage, calls)
            if repair is not None:
                # The findings are kept, but a review without its summary did not finish.
                failure = "the model gave no valid summary, also after a repair turn"
                return _PartResult(got, failure, "unusable", usage, calls)
            kept = got
            problems = [
                "summary: missing or invalid; your findings were kept: call the tool again "
                "with the summary (findings may be an empty list)",
                *got.summary_problems[:10],
            ]
        elif repair is not None:
            failure = "the model's answer was unusable, also after a repair turn"
            if kept is not None:
                failure = "the model's repair turn was unusable"
            return _PartResult(kept, failure, "unusable", usage, calls)
        else:
            problems = got
        again = " after the repair turn" if repair else ""
        log.warning("model answer incomplete%s: %d problem(s)", again, len(problems))
        # The repair replays the request and the answer: about what both cost, once more.
        if not spend.allows(reply.usage.total + reply.usage.output_tokens):
            failure = "the model's answer was unusable, and the budget left no room to repair it"
            return _PartResult(kept, failure, "unusable", usage, calls)
        repair = Repair(previous=reply, problems="\n".join(problems))
    return _PartResult(kept, "the model's answer was unusable", "unusable", usage, calls)


def _larger_limit(limit: int, limits: ModelLimits) -> int:
    """The retry's output limit: twice the one reached, at most what the model can write."""
    return min(2 * limit, limits.output_ceiling or 2 * limit)


def _cut_short(
    limit: int,
    limits: ModelLimits,
    spend: _Spend,
    reply: ModelReply,
    *,
    larger: int | None,
    repair: Repair | None,
) -> str | None:
    """Why an answer cut off at `limit` output tokens is not retried larger; None: it is.
    Only a part's first answer is: once, with twice the limit (at most the model's ceiling),
    if the review's token budget has room for it."""
    if repair is not None:
        return f"the model's repair turn was cut off at its output limit of {limit} tokens"
    cut = f"the model's answer was cut off at its output limit of {limit} tokens"
    if larger is not None:
        return f"{cut}, also on its one retry with a larger limit"
    larger = _larger_limit(limit, limits)
    if larger <= limit:
        return f"{cut}, the most this model can write"
    # The same request again, with room for a longer answer.
    if not spend.allows(reply.usage.total - reply.usage.output_tokens + larger):
        return f"{cut}, and a retry with {larger} would not fit the review's token budget"
    return None


def _kept_of(failure: str, kept: ModelAnswer) -> str:
    n = len(kept.findings)
    return f"{failure}; its {n} complete finding(s) were kept" if n else failure


def _problems(reply: ModelReply, expect: _Expect) -> ModelAnswer | list[str]:
    """The usable part of a reply, or what is missing for the repair turn to ask again."""
    if reply.tool_input is None:
        return [f"no call to {TOOL_NAME}: the review must be submitted through the tool"]
    try:
        return parse_answer(reply.tool_input, rule_ids=expect.rule_ids, criteria=expect.criteria)
    except AnswerError as exc:
        return exc.problems[:30]


async def _finish(
    request: ReviewRequest,
    rules: Sequence[Finding],
    chunks: ChunkPlan,
    results: Sequence[_PartResult],
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
    merged = merge_model_findings(request.diff, rules, model_findings)
    criteria = _criteria_of(request)
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
    elif failed == len(results) and not any(_kept_of_cut(r) for r in results):
        kinds = {"unusable" if r.kind == "cut" else r.kind for r in results}
        outcome = "unusable" if kinds == {"unusable"} else "unavailable"
        incomplete = f"{failures[0]}; the rules' findings are shown"
    else:
        # Also when every part was cut off at the output limit: what was complete is kept.
        outcome = "partial"
        incomplete = (
            f"{failed} of {len(results)} part(s) were not fully reviewed by the model "
            f"({failures[0]})"
        )
        if over_budget:
            incomplete += f"; {over_budget}"
    made_from = PlanInput(
        request.diff,
        [*rules, *_carried(request), *merged.findings, *unmet],
        request.config,
        summary=_with_missing_context(
            merge_summaries([a.summary for a in answers if a.summary is not None]), request
        ),
        dismissed=request.dismissed,
        dismissals=request.dismissals,
        pr_author=request.pr_author,
        incomplete=incomplete,
        notices=_context_notices(
            notices, request, has_summary=any(a.summary is not None for a in answers)
        ),
        not_reviewed={**request.not_reviewed, **not_reviewed},
        previous=request.previous,
        resolved_in=request.resolved_in,
        requirements=table,
    )
    return ReviewResult(
        plan=await _plan(cpu, made_from),
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


def _kept_of_cut(result: _PartResult) -> bool:
    """A part cut off at the output limit that still gave complete findings or a summary."""
    answer = result.answer
    return result.kind == "cut" and answer is not None and bool(answer.findings or answer.summary)


def _part_outcome(result: _PartResult) -> str:
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


def _carried(request: ReviewRequest) -> list[Finding]:
    """The last review's model findings on files this review does not send to the model."""
    scope = request.model_scope
    if scope is None:
        return []
    return [
        f
        for f in request.carried
        if f.where.path not in scope and request.diff.file(f.where.path) is not None
    ]


def _criteria_of(request: ReviewRequest) -> list[Criteria]:
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


def _context_notices(
    notices: Sequence[str], request: ReviewRequest, *, has_summary: bool
) -> list[str]:
    """Without a model summary, what could not be read goes at the top of the summary."""
    if has_summary:
        return list(notices)
    return [*notices, *(f"Missing context: {m}" for m in request.missing())]


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
    criteria = _criteria_of(request)
    table = criteria_table(criteria, {}) if criteria else None
    made_from = PlanInput(
        request.diff,
        [*rules, *_carried(request)],
        request.config,
        dismissed=request.dismissed,
        dismissals=request.dismissals,
        pr_author=request.pr_author,
        incomplete=incomplete,
        notices=_context_notices(notices, request, has_summary=False),
        not_reviewed=request.not_reviewed,
        previous=request.previous,
        resolved_in=request.resolved_in,
        requirements=table,
    )
    return ReviewResult(
        plan=await _plan(cpu, made_from),
        made_from=made_from,
        outcome=outcome,
        usage=Usage(),
        calls=0,
        model=None,
        incomplete=incomplete,
        requirements=table,
    )
