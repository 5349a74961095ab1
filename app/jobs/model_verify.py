"""The second look before a model finding blocks (`model.verify: true`): one short call per
finding that would fail the check, within what the review has left of its token budget (the
daily cap included) and its deadline.

What is asked and how the answer is read is the core's (`app.review.verify`); here the calls
are made. Only a refutation holds a finding back: a verdict of "not confirmed" citing lines of
the code shown. A finding whose verification could not be had (no room left, the deadline, an
outage, a refusal, an answer that is no verdict, beyond the first few) blocks as it would
without verification, and the summary says it was not verified and why: an outage or a
steered answer must not read as a pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace

from app.jobs.cpu_budget import CpuRunner
from app.jobs.model_result import ReviewResult, carried, plan_of
from app.llm import LLMError, LLMRejected, ModelRequest, ReviewModel, Usage
from app.review.budget import ModelLimits, review_budget
from app.review.chunking import estimate_tokens
from app.review.findings import Finding
from app.review.request import ReviewRequest
from app.review.verify import (
    MAX_VERIFIED,
    VERIFY_OUTPUT_TOKENS,
    VERIFY_SYSTEM,
    VERIFY_TOOL,
    VERIFY_TOOL_DESCRIPTION,
    VerdictError,
    not_confirmed,
    not_verified,
    parse_verdict,
    shown_lines,
    to_verify,
    verify_prompt,
    verify_schema,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Verification:
    held: dict[str, str] = field(default_factory=dict)  # finding id -> why it does not block
    confirmed: set[str] = field(default_factory=set)
    unverified: dict[str, str] = field(default_factory=dict)  # id -> why (it still blocks)
    usage: Usage = field(default_factory=Usage)
    calls: int = 0  # HTTP attempts


async def verified(
    result: ReviewResult,
    request: ReviewRequest,
    model: ReviewModel,
    limits: ModelLimits,
    *,
    deadline: float,
    clock: Callable[[], float],
    cpu: CpuRunner,
    progress: Callable[[str], None] | None = None,
) -> ReviewResult:
    """With `model.verify`, `result` with its blocking model findings verified (also those
    carried from the last review whose file changed): those not confirmed are advisory, the
    calls' usage is added. Unchanged when no model finding would block."""
    if not (request.config.model.verify and request.config.model.blocking):
        return result
    chosen, beyond = to_verify(result.plan, request.config)
    if not chosen:
        return result
    if progress is not None:
        progress(f"model: verifying {len(chosen)} blocking finding(s)")
    done = _Verification()
    # Only findings carried on files the model does not see again: a finding the model reports
    # again on a changed file keeps its id while its line's text is unchanged, yet the code
    # around it (the guard a refutation cited) may be gone.
    unchanged = {f.id for f in carried(request)}

    def kept_verdict(f: Finding) -> bool:
        """A carried finding's file is unchanged since the last review: so is its verdict."""
        if f.id not in unchanged or f.id not in request.verdicts:
            return False
        kept = request.verdicts[f.id]
        if kept is None:
            done.confirmed.add(f.id)
        else:
            done.held[f.id] = kept
        return True

    for f in beyond:
        if not kept_verdict(f):
            done.unverified[f.id] = not_verified(
                f"only the {MAX_VERIFIED} most severe blocking model findings are verified"
            )
    room = review_budget(limits) - result.usage.total
    sent: list[tuple[Finding, ModelRequest]] = []
    for f in chosen:
        if kept_verdict(f):
            continue
        req = _request(f, request)
        cost = _estimate(req, limits)
        if clock() >= deadline:
            done.unverified[f.id] = not_verified("the review's deadline had passed")
        elif cost > room:
            done.unverified[f.id] = not_verified(
                "the review's token budget left no room for the call"
            )
        else:
            room -= cost
            sent.append((f, req))
    gate = asyncio.Semaphore(limits.concurrency)

    async def one(f: Finding, req: ModelRequest) -> None:
        async with gate:
            shown = shown_lines(f, request.diff, request.files)
            refuted, why = await _verify_one(model, req, shown, deadline, done)
        if why is None:
            done.confirmed.add(f.id)
        else:
            (done.held if refuted else done.unverified)[f.id] = why

    tasks = {asyncio.create_task(one(f, req)): f for f, req in sent}
    if tasks:
        try:
            # The adapter keeps to the deadline; this is the backstop if anything does not.
            _, late = await asyncio.wait(tasks, timeout=max(deadline - clock(), 0.0) + 10)
        finally:
            # Late, or this review cancelled: no call goes on after the review is over.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in late:
            done.unverified[tasks[task].id] = not_verified("the review's deadline passed")
        for task in tasks:
            if task not in late and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]  # a bug of ours: let it be seen
    log.info(
        "verified %d model finding(s); %d refuted, %d not verified (they block)",
        len(sent),
        len(done.held),
        len(done.unverified),
    )
    usage, calls = result.usage + done.usage, result.calls + done.calls
    verdicts = {**dict.fromkeys(done.confirmed), **done.held}
    if not done.held and not done.unverified:
        return replace(result, usage=usage, calls=calls, verdicts=verdicts)
    notes = [
        f"Verification: `{fid}` {why}; it blocks as it would without verification"
        for fid, why in done.unverified.items()
    ]
    made_from = replace(
        result.made_from, held=done.held, notices=[*result.made_from.notices, *notes]
    )
    return replace(
        result,
        plan=await plan_of(cpu, made_from),
        made_from=made_from,
        usage=usage,
        calls=calls,
        verdicts=verdicts,
    )


def _request(finding: Finding, request: ReviewRequest) -> ModelRequest:
    return ModelRequest(
        system=(VERIFY_SYSTEM,),
        user=verify_prompt(finding, request.diff, request.files),
        tool_name=VERIFY_TOOL,
        tool_description=VERIFY_TOOL_DESCRIPTION,
        input_schema=verify_schema(),
        max_output_tokens=VERIFY_OUTPUT_TOKENS,
    )


def _estimate(req: ModelRequest, limits: ModelLimits) -> int:
    """What the call may cost: its prompt, its answer and the model's thinking beside it."""
    prompt = sum(estimate_tokens(b) for b in req.system) + estimate_tokens(req.user)
    return prompt + VERIFY_OUTPUT_TOKENS + limits.thinking_tokens


async def _verify_one(
    model: ReviewModel,
    req: ModelRequest,
    shown: Collection[int],
    deadline: float,
    done: _Verification,
) -> tuple[bool, str | None]:
    """(False, None) when the call confirmed the finding; (True, why) when it refuted it;
    (False, why) when no verdict was had (the finding still blocks)."""
    try:
        reply = await model.review(req, deadline=deadline)
    except LLMRejected as exc:
        done.calls += exc.attempts
        return False, not_verified(f"the model API refused the verification call: {exc.reason}")
    except LLMError as exc:
        done.calls += exc.attempts
        return False, not_verified(f"the model was unavailable: {exc.reason}")
    done.calls += reply.attempts
    done.usage = done.usage + reply.usage
    if reply.stop_reason == "refusal":
        return False, not_verified("the model refused the verification call")
    if reply.stop_reason == "max_tokens":
        return False, not_verified("the verification answer was cut off at its output limit")
    try:
        verdict = parse_verdict(reply.tool_input, shown)
    except VerdictError as exc:
        return False, not_verified(f"the verification answer was unusable ({exc})")
    return (False, None) if verdict.confirmed else (True, not_confirmed(verdict.reason))
