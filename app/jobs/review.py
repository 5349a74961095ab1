"""The review job: gather from GitHub, review (rules, then the model), publish, remember.

    pull request ─► config + persona (base commit) ─► check run in_progress ─► diff
      ─► what we already said (markers) ─► incremental scope ─► run_review ─► publish
      ─► pull_reviews row + usage

What can go wrong and what the user sees:
- a newer push arrived while this review ran: nothing is published, the check run says it was
  superseded, the newer job publishes;
- GitHub fails transiently: the job is retried (the steps already done are found again);
- the job cannot finish (a permanent error, or its last attempt failed): the check run is
  completed `neutral` with the reason, never left spinning, and the error is kept on the job.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from app.github.repo import RepoClient
from app.github.types import GitHubError, PullRequest
from app.jobs.context import JobContext
from app.jobs.gather import LoadedConfig, OnThePr, load_config, load_persona, read_our_comments
from app.jobs.model_calls import ReviewResult, run_review
from app.jobs.payloads import ReviewJob, review_key
from app.jobs.publish import Published, publish
from app.jobs.tickets import linked_issues
from app.jobs.usage import ReviewSubject, record_review_usage, tokens_left_today
from app.review.budget import ModelLimits
from app.review.diff import DiffParseError, parse_diff
from app.review.findings import Finding, Source
from app.review.markers import is_summary
from app.review.plan import ReviewPlan, build_plan
from app.review.prompt import PullRequestText
from app.review.request import ReviewRequest
from app.review.requirements import CRITERION_RULE, MISSING_ISSUE_RULE
from app.review.rules import ALL_RULES
from app.store.jobs import ClaimedJob, newer_review_queued
from app.store.reviews import StoredReview, dismissal_records, last_review, save_review
from app.tracing import span

log = logging.getLogger(__name__)


class PermanentReviewError(Exception):
    """Retrying the job cannot help (a diff we cannot parse, a PR we may not read)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which files the model sees this time, and the last review's findings to keep."""

    files: frozenset[str] | None  # None: all (a full review)
    carried: tuple[Finding, ...]
    why: str  # for the log


async def review_pull_request(ctx: JobContext, job: ClaimedJob, request: ReviewJob) -> None:
    key = review_key(request.repository_id, request.number)
    if await newer_review_queued(ctx.engine, key, than_job_id=job.id):
        # A retry overtaken while it waited: the newer job reviews (or has reviewed) the PR.
        log.info("#%d: a newer review exists; this one is not run", request.number)
        return
    repo = ctx.github.repo(request.installation_id, request.repository)
    pr = await repo.pull(request.number)
    if pr.state != "open":
        log.info("#%d is %s: not reviewed", pr.number, pr.state)
        return
    loaded = await load_config(repo, pr.base_sha)
    asked = request.trigger.startswith("command.")  # someone asked for this review by name
    if pr.draft and not loaded.config.review_drafts and not asked:
        log.info("#%d is a draft and review_drafts is off: not reviewed", pr.number)
        return
    started = time.monotonic()
    check_id = await _open_check(repo, job, pr.head_sha)
    try:
        await _review_and_publish(ctx, started, job, request, repo, pr, loaded, check_id)
    except BaseException as exc:
        # Every attempt closes the run it opened: a retry (or a restart's) opens its own.
        await asyncio.shield(_close_check(repo, check_id, exc, final=_gives_up(job, exc)))
        raise


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
    if isinstance(exc, PermanentReviewError):
        return True
    if isinstance(exc, GitHubError):
        return not exc.transient or job.attempts >= job.max_attempts
    return isinstance(exc, Exception) and job.attempts >= job.max_attempts


async def _close_check(repo: RepoClient, check_id: int, exc: BaseException, *, final: bool) -> None:
    """A review that ends without a verdict fails closed: not even the rules ran, so `neutral`
    (which branch protection counts as passing) would let whatever broke the review through.
    An attempt that will be retried says so and leaves the verdict to the retry."""
    reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
    if isinstance(exc, asyncio.CancelledError):
        reason = "the worker stopped (a restart or a deploy)"
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


async def _review_and_publish(
    ctx: JobContext,
    started: float,
    job: ClaimedJob,
    request: ReviewJob,
    repo: RepoClient,
    pr: PullRequest,
    loaded: LoadedConfig,
    check_id: int,
) -> None:
    config = loaded.config
    persona = await load_persona(repo, pr.base_sha, config.persona, ctx.personas_dir)
    pull_diff = await repo.pull_diff(pr.number)
    try:
        diff = parse_diff(pull_diff.text)
    except DiffParseError as exc:
        raise PermanentReviewError(f"the diff GitHub sent could not be read: {exc}") from None
    stored = await last_review(ctx.engine, request.repository_id, pr.number)
    bot = await ctx.github.bot_login()
    ours = await repo.our_comments(
        pr.number,
        bot_login=bot,
        is_summary=is_summary,
        summary_id=stored.summary_comment_id if stored else None,
    )
    if ours.truncated:
        log.warning(
            "#%d: more comments or reviews than we read back; some may be missed", pr.number
        )
    on_pr = read_our_comments(ours.comments, bot)
    linked = await linked_issues(ctx.linear, config.linear, repo, pr)
    if any(t.criteria for t in linked.tickets):
        # Acceptance criteria are judged on the whole change, not on the last push alone.
        scope = Scope(None, (), "full review: linked issues have acceptance criteria")
    elif request.trigger in ("command.review", "pull_request.edited"):
        scope = Scope(None, (), f"full review: {request.trigger}")
    else:
        scope = await _scope(repo, pr, stored)
    notices = tuple(n for n in (loaded.problem, persona.problem, pull_diff.note) if n is not None)
    review_request = ReviewRequest(
        diff=diff,
        config=config,
        persona=persona.persona,
        checklists=persona.checklists,
        pr=PullRequestText(
            title=pr.title, body=pr.body, branch=pr.head_ref, commits=linked.commit_messages
        ),
        tickets=linked.tickets,
        missing_context=linked.missing_context,
        missing_issue=linked.missing_issue,
        dismissals=tuple(await dismissal_records(ctx.engine, request.repository_id, pr.number)),
        pr_author=pr.author,
        not_reviewed=dict(pull_diff.unseen),
        notices=notices,
        previous=on_pr.previous,
        resolved_in=pr.head_sha,
        model_scope=scope.files,
        carried=scope.carried,
    )
    log.info("reviewing #%d at %s (%s)", pr.number, pr.head_sha[:12], scope.why)
    with span("review.core_and_model", files=len(diff.files), full=scope.files is None):
        result = await _run_model_review(ctx, request, review_request)
    # Counted now: tokens spent on a review that is then superseded or fails to publish were
    # spent all the same, and the daily cap must see them.
    await _record_usage(ctx, job, request, pr, result)

    if await newer_review_queued(
        ctx.engine, review_key(request.repository_id, pr.number), than_job_id=job.id
    ):
        log.info("#%d: a newer review is queued; this one is not published", pr.number)
        await repo.complete_check_run(
            check_id,
            conclusion="cancelled",
            title="Superseded by a newer review",
            summary="A newer push or command started another review of this pull request.",
        )
        return
    with span("review.publish", comments=len(result.plan.comments)):
        published = await _publish(repo, pr, check_id, on_pr, review_request, result)
    await _remember(ctx, started, request, pr, check_id, result, published)


async def _publish(
    repo: RepoClient,
    pr: PullRequest,
    check_id: int,
    on_pr: OnThePr,
    review_request: ReviewRequest,
    result: ReviewResult,
) -> Published:
    return await publish(
        repo,
        result.plan,
        number=pr.number,
        head_sha=pr.head_sha,
        check_run_id=check_id,
        summary_comment_id=on_pr.summary_comment_id,
        replan=lambda notice: _replan(review_request, result, notice),
    )


async def _scope(repo: RepoClient, pr: PullRequest, stored: StoredReview | None) -> Scope:
    """Full review unless the last one was of an ancestor of this head (a plain push)."""
    if stored is None:
        return Scope(None, (), "full review: none before")
    if stored.head_sha == pr.head_sha:
        return Scope(frozenset(), stored.model_findings, "same head: the model is not asked")
    try:
        comparison = await repo.compare(stored.head_sha, pr.head_sha)
    except GitHubError as exc:
        if exc.transient:
            raise
        return Scope(None, (), f"full review: {stored.head_sha[:12]} is gone ({exc.reason})")
    if comparison.status != "ahead":
        why = f"full review: {comparison.status} from {stored.head_sha[:12]} (force-push or rebase)"
        return Scope(None, (), why)
    if comparison.files_truncated:
        return Scope(None, (), "full review: the push changed more files than GitHub lists")
    files = frozenset(comparison.files)
    why = f"incremental: {len(files)} file(s) changed since {stored.head_sha[:12]}"
    return Scope(files, stored.model_findings, why)


async def _run_model_review(
    ctx: JobContext, request: ReviewJob, review_request: ReviewRequest
) -> ReviewResult:
    settings = ctx.settings
    left = await tokens_left_today(
        ctx.engine, request.installation_id, daily_cap=settings.llm_daily_tokens, now=ctx.now()
    )
    limits = ModelLimits(
        call_input_tokens=settings.llm_call_input_tokens,
        review_tokens=settings.llm_review_tokens,
        max_output_tokens=settings.llm_max_output_tokens,
        concurrency=settings.llm_concurrency,
        deadline_seconds=settings.llm_deadline_seconds,
        tokens_left_today=left,
    )
    model = ctx.models(review_request.persona.model)
    if model is None:
        reason = settings.llm_missing() or "no model is configured"
        return await run_review(review_request, None, limits, rules_only_reason=reason)
    try:
        return await run_review(review_request, model, limits)
    finally:
        await model.aclose()


async def _record_usage(
    ctx: JobContext, job: ClaimedJob, request: ReviewJob, pr: PullRequest, result: ReviewResult
) -> None:
    await record_review_usage(
        ctx.engine,
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


def _replan(request: ReviewRequest, result: ReviewResult, notice: str) -> ReviewPlan:
    plan = result.plan
    return build_plan(
        request.diff,
        plan.findings,
        request.config,
        summary=plan.summary,
        dismissed=request.dismissed,
        dismissals=request.dismissals,
        pr_author=request.pr_author,
        incomplete=result.incomplete,
        notices=[*request.notices, notice],
        not_reviewed={n.path: n.reason for n in plan.not_reviewed},
        previous=request.previous,
        resolved_in=request.resolved_in,
        requirements=result.requirements,
    )


async def _remember(
    ctx: JobContext,
    started: float,
    request: ReviewJob,
    pr: PullRequest,
    check_id: int,
    result: ReviewResult,
    published: Published,
) -> None:
    now = ctx.now()
    if result.incomplete is None:
        # Only a complete review is a baseline: after a partial one (model down, over budget)
        # the next review is a full one, so nothing the model missed is taken as reviewed.
        await save_review(
            ctx.engine,
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
                reviewed_at=now,
                severities={f.id: f.severity for f in published.plan.findings},
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
