"""The command job: a `/backend-review` comment on a pull request.

Acknowledged with 👀 at once; then only people with write, maintain or admin permission (asked
of GitHub's collaborator-permission API, not the webhook's author_association) may run it;
others get a short reply and nothing else happens: no review, no model call.
"""

from __future__ import annotations

import logging

from app.github.repo import RepoClient
from app.jobs.context import JobContext
from app.jobs.gather import load_config, load_persona
from app.jobs.payloads import CommandJob, ReviewJob, review_key
from app.review.commands import (
    ALLOWED_PERMISSIONS,
    config_text,
    dismissed_text,
    help_text,
    parse_command,
    refusal,
)
from app.store.jobs import NewJob
from app.store.reviews import Dismissal

log = logging.getLogger(__name__)


async def run_command(ctx: JobContext, request: CommandJob) -> None:
    repo = ctx.github.repo(request.installation_id, request.repository)
    await repo.react(request.comment_id, "eyes")
    permission = await repo.permission(request.author)
    if permission not in ALLOWED_PERMISSIONS:
        log.info("command by %s (%s) on #%d refused", request.author, permission, request.number)
        await repo.create_issue_comment(request.number, refusal(request.author))
        return
    command = parse_command(request.body)
    if command.kind == "review":
        await _queue_review(ctx, repo, request, trigger="command.review")
    elif command.kind == "config":
        pr = await repo.pull(request.number)
        loaded = await load_config(repo, pr.base_sha)
        persona = await load_persona(repo, pr.base_sha, loaded.config.persona, ctx.personas_dir)
        problem = "; ".join(p for p in (loaded.problem, persona.problem) if p) or None
        text = config_text(
            loaded.config, persona.persona, config_problem=problem, base_ref=pr.base_ref
        )
        await repo.create_issue_comment(request.number, text)
    elif command.kind == "ignore" and command.finding_id and command.reason:
        await ctx.store.add_dismissal(
            Dismissal(
                repository_id=request.repository_id,
                number=request.number,
                finding_id=command.finding_id,
                by_login=request.author,
                reason=command.reason,
                at=ctx.now(),
            ),
        )
        await repo.create_issue_comment(
            request.number, dismissed_text(command.finding_id, request.author, command.reason)
        )
        # Same head as the last review: the model is not asked again, only the gate recomputed.
        await _queue_review(ctx, repo, request, trigger="command.ignore")
    else:
        await repo.create_issue_comment(request.number, help_text(command.problem))


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
