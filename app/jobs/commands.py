"""The command job: a `/backend-review` comment on a pull request, in its conversation or as a
reply in one of our findings' review threads (`CommandJob.thread_root`). In a thread, `ignore`
and `explain` are about that thread's finding (named by our first comment's marker) and every
answer is a reply in the thread.

Acknowledged with 👀 at once; then only people with write, maintain or admin permission (asked
of GitHub's collaborator-permission API, not the webhook's author_association) may run it;
others get a short reply and nothing else happens: no review, no model call.

`ignore` is further judged by the base branch's `dismiss` policy (`app.review.dismissal`): by
default not by the PR's author, and a critical finding only by maintain or admin. A refusal
says why. Refusal replies are throttled: one per user per pull request per hour; after that a
👎 reaction only, so poking the bot costs a reaction, not a comment under its name.
"""

from __future__ import annotations

import logging

from app.github.repo import RepoClient
from app.github.types import Comment
from app.jobs.context import JobContext
from app.jobs.explain import explanation
from app.jobs.gather import load_config, load_persona
from app.jobs.payloads import CommandJob, ReviewJob, review_key
from app.review.commands import (
    ALLOWED_PERMISSIONS,
    NOT_A_FINDING_THREAD,
    THREAD_KINDS,
    config_text,
    dismissal_refused,
    dismissed_text,
    help_text,
    parse_command,
    refusal,
)
from app.review.dismissal import refusal_reason
from app.review.findings import Severity
from app.review.markers import finding_ids
from app.store.jobs import NewJob
from app.store.reviews import Dismissal

log = logging.getLogger(__name__)


async def run_command(ctx: JobContext, request: CommandJob) -> None:
    repo = ctx.github.repo(request.installation_id, request.repository)
    in_thread = request.thread_root is not None
    await repo.react(request.comment_id, "eyes", review=in_thread)
    permission = await repo.permission(request.author)
    if permission not in ALLOWED_PERMISSIONS:
        log.info("command by %s (%s) on #%d refused", request.author, permission, request.number)
        await _refuse(ctx, repo, request, refusal(request.author))
        return
    command = parse_command(request.body)
    root: Comment | None = None
    if in_thread and command.kind in THREAD_KINDS:
        root, finding_id = await _thread_finding(ctx, repo, request)
        if root is None or finding_id is None:
            await _say(repo, request, NOT_A_FINDING_THREAD)
            return
        command = parse_command(request.body, thread_finding=finding_id)
    if command.kind == "explain" and root is not None and command.finding_id:
        await _say(repo, request, await explanation(ctx, request, command.finding_id, root))
    elif command.kind == "review":
        await _queue_review(ctx, repo, request, trigger="command.review")
    elif command.kind == "config":
        pr = await repo.pull(request.number)
        loaded = await load_config(repo, pr.base_sha)
        persona = await load_persona(repo, pr.base_sha, loaded.config.persona, ctx.personas_dir)
        problem = "; ".join(p for p in (loaded.problem, persona.problem) if p) or None
        text = config_text(
            loaded.config,
            persona.persona,
            config_problem=problem,
            base_ref=pr.base_ref,
            checklists=persona.checklists,
        )
        await _say(repo, request, text)
    elif command.kind == "ignore" and command.finding_id and command.reason:
        await _ignore(ctx, repo, request, permission, command.finding_id, command.reason)
    else:
        await _say(repo, request, help_text(command.problem))


async def _thread_finding(
    ctx: JobContext, repo: RepoClient, request: CommandJob
) -> tuple[Comment | None, str | None]:
    """The thread's first comment and the finding it is about, when it is one of ours: anyone
    can write a marker into their own comment, so the author must be the App."""
    assert request.thread_root is not None
    root = await repo.review_comment(request.thread_root)
    if root is None or root.in_reply_to is not None:
        return None, None
    if root.author != await ctx.github.bot_login():
        return None, None
    ids = finding_ids(root.body)
    return (root, next(iter(ids))) if len(ids) == 1 else (None, None)


async def _say(repo: RepoClient, request: CommandJob, text: str) -> None:
    """Answer where the command was written: in its review thread, or the conversation."""
    if request.thread_root is not None:
        await repo.reply_to_review_comment(request.number, request.thread_root, text)
    else:
        await repo.create_issue_comment(request.number, text)


async def _ignore(
    ctx: JobContext,
    repo: RepoClient,
    request: CommandJob,
    permission: str,
    finding_id: str,
    reason: str,
) -> None:
    """Dismiss a finding if the base branch's policy lets this user; else say why not."""
    pr = await repo.pull(request.number)
    loaded = await load_config(repo, pr.base_sha)  # a bad file: the defaults, the strictest
    stored = await ctx.store.last_review(request.repository_id, request.number)
    severity = (stored.severities or {}).get(finding_id) if stored else None
    why = refusal_reason(
        loaded.config.dismiss,
        login=request.author,
        role=permission,
        pr_author=pr.author,
        severity=severity,
    )
    if why is not None:
        log.info("dismissal by %s on #%d refused: %s", request.author, request.number, why)
        await _refuse(ctx, repo, request, dismissal_refused(finding_id, request.author, why))
        return
    await ctx.store.add_dismissal(
        Dismissal(
            repository_id=request.repository_id,
            number=request.number,
            finding_id=finding_id,
            by_login=request.author,
            reason=reason,
            at=ctx.now(),
            by_role=permission,
        ),
    )
    caveat = None
    if severity is None and refusal_reason(
        loaded.config.dismiss,
        login=request.author,
        role=permission,
        pr_author=pr.author,
        severity=Severity.CRITICAL,
    ):
        caveat = (
            f"If it is a critical finding, dismissing it needs "
            f"{loaded.config.dismiss.critical_min_permission} permission or more: "
            "the summary will then say it was not applied."
        )
    text = dismissed_text(finding_id, request.author, reason, caveat=caveat)
    await _say(repo, request, text)
    # Same head as the last review: the model is not asked again, only the gate recomputed.
    await _queue_review(ctx, repo, request, trigger="command.ignore")


async def _refuse(ctx: JobContext, repo: RepoClient, request: CommandJob, text: str) -> None:
    """Reply with `text`, unless this user was answered on this PR within the hour: then 👎."""
    if await ctx.store.may_reply(
        request.repository_id, request.number, request.author, now=ctx.now()
    ):
        await _say(repo, request, text)
    else:
        log.info("refusal to %s on #%d: reaction only (replied within the hour)",
                 request.author, request.number)  # fmt: skip
        await repo.react(request.comment_id, "-1", review=request.thread_root is not None)


async def _queue_review(
    ctx: JobContext, repo: RepoClient, request: CommandJob, *, trigger: str
) -> None:
    pr = await repo.pull(request.number)
    job = ReviewJob(
        installation_id=request.installation_id,
        repository=request.repository,
        repository_id=request.repository_id,
        number=request.number,
        head_sha=pr.head_sha,
        base_sha=pr.base_sha,
        trigger=trigger,
        draft=pr.draft,
    )
    key = review_key(request.repository_id, request.number)
    await ctx.enqueue([NewJob("review", job.model_dump(), coalesce_key=key)])
