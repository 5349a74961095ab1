"""The review job, in a straight line: gather → core → publish → remember.

    still wanted? (a newer review, a closed PR, a draft) ─► check run in_progress
      ─► gather (GitHub, the database, Linear: one `ReviewInputs`)
      ─► core (rules, then the model over the diff's parts: one `ReviewResult`)
      ─► superseded? ─► close our threads of fixed findings (app.jobs.threads)
      ─► publish (summary, review, check run) ─► remember (usage, review row)

The database and GitHub are read in gather and written in publish and remember, nowhere else.

What can go wrong and what the user sees:
- a newer push arrived while this review ran: nothing is published, the check run says it was
  superseded, the newer job publishes;
- GitHub fails transiently: the job is retried (the steps already done are found again);
- the job cannot finish (a permanent error, or its last attempt failed): the check run is
  completed `failure` with the reason, never left spinning, and the error is kept on the job.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

from app.errors import PermanentJobError
from app.github.repo import RepoClient
from app.github.types import GitHubError, PullRequest
from app.jobs.context import JobContext
from app.jobs.cpu_budget import CpuRunner
from app.jobs.gather import LoadedConfig, ReviewInputs, gather_review, load_config
from app.jobs.llm_config import model_limits, model_refusal
from app.jobs.model_calls import run_review
from app.jobs.model_result import ReviewResult
from app.jobs.payloads import FULL_REVIEW_TRIGGER, ReviewJob, review_key
from app.jobs.publish import Published, publish
from app.jobs.threads import ClosedThreads, close_fixed_threads, newly_fixed
from app.jobs.usage import ReviewSubject, record_review_usage
from app.review.findings import Source
from app.review.plan import build_plan
from app.review.prompt import PullRequestText
from app.review.request import ReviewRequest
from app.review.requirements import CRITERION_RULE, MISSING_ISSUE_RULE
from app.review.rules import ALL_RULES
from app.store.jobs import ClaimedJob
from app.store.reviews import StoredReview
from app.tracing import span

log = logging.getLogger(__name__)


async def review_pull_request(ctx: JobContext, job: ClaimedJob, request: ReviewJob) -> None:
    repo = ctx.github.repo(request.installation_id, request.repository)
    wanted = await _still_wanted(ctx, job, request, repo)
    if wanted is None:
        return
    pr, loaded = wanted
    started = time.monotonic()
    check_id = await _open_check(repo, job, pr.head_sha)
    try:
        cpu = ctx.review_cpu()
        inputs = await gather_review(ctx, repo, request, pr, loaded, cpu)
        log.info("reviewing #%d at %s (%s)", pr.number, pr.head_sha[:12], inputs.scope.why)
        with span(
            "review.core_and_model", files=len(inputs.diff.files), full=inputs.scope.files is None
        ):
            result = await _review(ctx, inputs, cpu)
        try:
            if await _superseded(ctx, job, request):
                log.info("#%d: a newer review is queued; this one is not published", pr.number)
                await _close_superseded(repo, check_id)
                return
            closed = await _close_fixed_threads(ctx, repo, inputs, result)
            with span("review.publish", comments=len(result.plan.comments)):
                published = await _publish(repo, inputs, check_id, result, closed.notice())
        finally:
            # Tokens spent on a review that is then superseded or fails to publish were spent
            # all the same, and the daily cap must see them.
            await asyncio.shield(_remember_usage(ctx, job, request, pr, result))
        await _remember(ctx, started, request, inputs, check_id, result, published, closed)
    except BaseException as exc:
        # Every attempt closes the run it opened: a retry (or a restart's) opens its own.
        reason = _reason(exc)
        await asyncio.shield(_close_check(repo, check_id, reason, final=_gives_up(job, exc)))
        raise


async def _still_wanted(
    ctx: JobContext, job: ClaimedJob, request: ReviewJob, repo: RepoClient
) -> tuple[PullRequest, LoadedConfig] | None:
    """The pull request and its config, unless the review is not to run at all."""
    key = review_key(request.repository_id, request.number)
    if await ctx.store.newer_review_queued(key, than_job_id=job.id):
        # A retry overtaken while it waited: the newer job reviews (or has reviewed) the PR.
        log.info("#%d: a newer review exists; this one is not run", request.number)
        return None
    pr = await repo.pull(request.number)
    if pr.state != "open":
        log.info("#%d is %s: not reviewed", pr.number, pr.state)
        return None
    loaded = await load_config(repo, pr.base_sha)
    # Someone asked for this review by name (a command, the check run's button).
    asked = request.trigger.startswith("command.") or request.trigger == FULL_REVIEW_TRIGGER
    if pr.draft and not loaded.config.review_drafts and not asked:
        log.info("#%d is a draft and review_drafts is off: not reviewed", pr.number)
        return None
    return pr, loaded


async def _open_check(repo: RepoClient, job: ClaimedJob, head_sha: str) -> int:
    """The check run in progress for this job: a new one, or on a retry the one an earlier
    attempt opened (a worker killed mid-review leaves it spinning otherwise)."""
    if job.attempts > 1:
        for run in await repo.check_runs(head_sha):
            if run.external_id == str(job.id) and run.status != "completed":
                return run.id
    return await repo.create_check_run(
        head_sha,
        title="Reviewing…",
        summary=f"backend-review is reviewing {head_sha[:12]}.",
        external_id=str(job.id),
    )


def _gives_up(job: ClaimedJob, exc: BaseException) -> bool:
    """Whether this failure ends the job (so the check run must not stay in progress)."""
    if isinstance(exc, PermanentJobError):
        return True
    if isinstance(exc, GitHubError):
        return not exc.transient or job.attempts >= job.max_attempts
    return isinstance(exc, Exception) and job.attempts >= job.max_attempts


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError):
        return "the worker stopped (a restart or a deploy)"
    return getattr(exc, "reason", None) or str(exc) or type(exc).__name__


async def close_dead_review(
    ctx: JobContext, job: ClaimedJob, request: ReviewJob, reason: str
) -> None:
    """A review job that died without running to an end (its workers kept dying): the check
    run its last attempt opened, still in progress, fails closed with the reason."""
    repo = ctx.github.repo(request.installation_id, request.repository)
    heads = [request.head_sha]
    pr = await repo.pull(request.number)
    if pr.head_sha != request.head_sha:
        heads.append(pr.head_sha)  # a review checks the PR's head when it runs, not the event's
    for head in heads:
        for run in await repo.check_runs(head):
            if run.external_id == str(job.id) and run.status != "completed":
                await _close_check(repo, run.id, f"its worker stopped: {reason}", final=True)


async def _close_check(repo: RepoClient, check_id: int, reason: str, *, final: bool) -> None:
    """A review that ends without a verdict fails closed: not even the rules ran, so `neutral`
    (which branch protection counts as passing) would let whatever broke the review through.
    An attempt that will be retried says so and leaves the verdict to the retry."""
    try:
        if final:
            await repo.complete_check_run(
                check_id,
                conclusion="failure",
                title="Review could not finish",
                summary=f"backend-review could not finish this review: {reason}. "
                "Re-run the check, or comment `/backend-review`, to try again.",
            )
        else:
            await repo.complete_check_run(
                check_id,
                conclusion="cancelled",
                title="Interrupted; the review will run again",
                summary=f"This attempt stopped: {reason}. It is retried automatically.",
            )
    except GitHubError as close_error:
        log.error("could not close check run %d: %s", check_id, close_error.reason)


def review_request(inputs: ReviewInputs) -> ReviewRequest:
    """What the core reviews, from what was gathered (pure)."""
    pr, linked = inputs.pr, inputs.linked
    problems = (inputs.config.problem, inputs.persona.problem, inputs.pull_diff.note)
    return ReviewRequest(
        diff=inputs.diff,
        config=inputs.config.config,
        persona=inputs.persona.persona,
        checklists=inputs.persona.checklists,
        pr=PullRequestText(
            title=pr.title, body=pr.body, branch=pr.head_ref, commits=linked.commit_messages
        ),
        tickets=linked.tickets,
        missing_context=linked.missing_context,
        missing_issue=linked.missing_issue,
        dismissals=inputs.dismissals,
        pr_author=pr.author,
        not_reviewed=dict(inputs.pull_diff.unseen),
        notices=tuple(n for n in problems if n is not None),
        previous=inputs.on_pr.previous,
        resolved_in=pr.head_sha,
        model_scope=inputs.scope.files,
        carried=inputs.scope.carried,
        verdicts=(inputs.last.verdicts or {}) if inputs.last is not None else {},
        files=inputs.files,
    )


async def _review(ctx: JobContext, inputs: ReviewInputs, cpu: CpuRunner) -> ReviewResult:
    """The core on what was gathered: rules, then the model within the budgets."""
    settings = ctx.settings
    request = review_request(inputs)
    limits = model_limits(settings, request.persona.model, inputs.tokens_left)
    refused = model_refusal(settings, request.persona.model)
    if refused is not None and settings.llm_missing() is None:
        return await run_review(request, None, limits, model_unavailable=refused, cpu=cpu)
    model = ctx.models(request.persona.model)
    if model is None:
        reason = settings.llm_missing() or "no model is configured"
        return await run_review(request, None, limits, rules_only_reason=reason, cpu=cpu)
    try:
        return await run_review(request, model, limits, cpu=cpu)
    finally:
        await model.aclose()


async def _superseded(ctx: JobContext, job: ClaimedJob, request: ReviewJob) -> bool:
    key = review_key(request.repository_id, request.number)
    return await ctx.store.newer_review_queued(key, than_job_id=job.id)


async def _close_superseded(repo: RepoClient, check_id: int) -> None:
    await repo.complete_check_run(
        check_id,
        conclusion="cancelled",
        title="Superseded by a newer review",
        summary="A newer push or command started another review of this pull request.",
    )


async def _close_fixed_threads(
    ctx: JobContext, repo: RepoClient, inputs: ReviewInputs, result: ReviewResult
) -> ClosedThreads:
    """Resolve our threads of the findings this push fixed (and of those an earlier review
    could not close)."""
    return await close_fixed_threads(
        repo,
        number=inputs.pr.number,
        head_sha=inputs.pr.head_sha,
        fixed=newly_fixed(result.plan.resolved, inputs.last),
        threads=inputs.on_pr.threads,
        bot_login=ctx.github.bot_login,
    )


async def _publish(
    repo: RepoClient,
    inputs: ReviewInputs,
    check_id: int,
    result: ReviewResult,
    notice: str | None = None,
) -> Published:
    made_from = result.made_from
    plan = result.plan
    if notice is not None:
        made_from = replace(made_from, notices=[*made_from.notices, notice])
        plan = build_plan(made_from)
    return await publish(
        repo,
        plan,
        number=inputs.pr.number,
        head_sha=inputs.pr.head_sha,
        check_run_id=check_id,
        summary_comment_id=inputs.on_pr.summary_comment_id,
        replan=lambda more: build_plan(replace(made_from, notices=[*made_from.notices, more])),
    )


async def _remember_usage(
    ctx: JobContext, job: ClaimedJob, request: ReviewJob, pr: PullRequest, result: ReviewResult
) -> None:
    await record_review_usage(
        ctx.store,
        ctx.metrics,
        result,
        ReviewSubject(
            installation_id=request.installation_id,
            repository=request.repository,
            number=pr.number,
            head_sha=pr.head_sha,
            job_id=job.id,
        ),
        configured_model=ctx.settings.model,
        now=ctx.now(),
        prices=ctx.settings.llm_price_per_mtok,
    )


async def _remember(
    ctx: JobContext,
    started: float,
    request: ReviewJob,
    inputs: ReviewInputs,
    check_id: int,
    result: ReviewResult,
    published: Published,
    closed: ClosedThreads,
) -> None:
    pr = inputs.pr
    if result.incomplete is None:
        # Only a complete review is a baseline: after a partial one (model down, over budget)
        # the next review is a full one, so nothing the model missed is taken as reviewed.
        await ctx.store.save_review(
            StoredReview(
                repository_id=request.repository_id,
                number=pr.number,
                repository=request.repository,
                head_sha=pr.head_sha,
                base_sha=pr.base_sha,
                model_findings=tuple(f for f in result.plan.findings if f.source is Source.LLM),
                conclusion=published.plan.conclusion,
                check_run_id=check_id,
                summary_comment_id=published.summary_comment_id,
                reviewed_at=ctx.now(),
                severities={f.id: f.severity for f in published.plan.findings},
                verdicts=dict(result.verdicts),
                threads_open=closed.left_open,
            ),
        )
    known_rules = {rule.id for rule in ALL_RULES} | {MISSING_ISSUE_RULE, CRITERION_RULE}
    ctx.metrics.observe_review(
        seconds=time.monotonic() - started,
        conclusion=published.plan.conclusion,
        findings=[
            (f.severity.value, f.source.value, f.rule if f.rule in known_rules else "model")
            for f in published.plan.findings
            if f.id not in published.plan.dismissed
        ],
    )
