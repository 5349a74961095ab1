"""The small jobs: a closed pull request, a re-run on a fork's commit, a merge queue's check,
a button pressed on our check run."""

from __future__ import annotations

import logging
import re

from app.github.types import FULL_REVIEW, Conclusion
from app.jobs.context import JobContext
from app.jobs.payloads import (
    FULL_REVIEW_TRIGGER,
    ActionJob,
    ClosedJob,
    MergeGroupJob,
    RerunJob,
    ReviewJob,
    review_key,
)
from app.review.commands import ALLOWED_PERMISSIONS
from app.store.jobs import NewJob

log = logging.getLogger(__name__)

# GitHub names a merge group's branch gh-readonly-queue/<base>/pr-<number>-<head sha>.
_QUEUE_REF = re.compile(r"gh-readonly-queue/.+/pr-(\d+)-[0-9a-f]{7,64}$")
_PASSING = frozenset({"success", "neutral", "skipped"})


async def closed(ctx: JobContext, request: ClosedJob) -> None:
    # Queuing this job already superseded the PR's waiting reviews (same key); a running one
    # finds the PR closed or is told by newer_review_queued that it is out of date.
    log.info("%s#%d closed: queued reviews cancelled", request.repository, request.number)


async def rerun(ctx: JobContext, request: RerunJob) -> None:
    """A check re-run whose event named no pull request (a fork's): find them by the commit."""
    repo = ctx.github.repo(request.installation_id, request.repository)
    numbers = await repo.pulls_for_commit(request.head_sha)
    jobs = []
    for number in numbers:
        job = ReviewJob(
            installation_id=request.installation_id,
            repository=request.repository,
            repository_id=request.repository_id,
            number=number,
            head_sha=request.head_sha,
            trigger=request.trigger,
        )
        key = review_key(request.repository_id, number)
        jobs.append(NewJob("review", job.model_dump(), coalesce_key=key))
    if not jobs:
        log.info("re-run on %s: no open pull request has this commit", request.head_sha[:12])
    await ctx.enqueue(jobs)


async def requested_action(ctx: JobContext, request: ActionJob) -> None:
    """The "Re-review fully" button on one of our check runs: a full review of each pull request
    at that commit (looked up by the commit when GitHub named none, as for a fork's)."""
    ours = ctx.settings.github_app_id
    if request.app_id != ours or request.identifier != FULL_REVIEW.identifier:
        log.warning(
            "requested_action %r on a check run of App %s, not ours (%s): ignored",
            request.identifier, request.app_id, ours,
        )  # fmt: skip
        return
    repo = ctx.github.repo(request.installation_id, request.repository)
    # The same rule as `/backend-review review`: a full model review is for the people who may
    # push, whoever GitHub shows the button to.
    permission = "none" if request.sender is None else await repo.permission(request.sender)
    if permission not in ALLOWED_PERMISSIONS:
        log.info(
            "full review asked by %s (%s) on %s: refused",
            request.sender, permission, request.head_sha[:12],
        )  # fmt: skip
        return
    numbers = list(request.numbers)
    if not numbers:
        numbers = await repo.pulls_for_commit(request.head_sha)
    jobs = [
        NewJob(
            "review",
            ReviewJob(
                installation_id=request.installation_id,
                repository=request.repository,
                repository_id=request.repository_id,
                number=number,
                head_sha=request.head_sha,
                trigger=FULL_REVIEW_TRIGGER,
            ).model_dump(),
            coalesce_key=review_key(request.repository_id, number),
        )
        for number in numbers
    ]
    log.info("full review asked on %s: %d pull request(s)", request.head_sha[:12], len(jobs))
    await ctx.enqueue(jobs)


async def merge_group(ctx: JobContext, request: MergeGroupJob) -> None:
    """Report our check on the merge group's head, from the verdict on the PR it adds.

    The PRs ahead of it in the queue were checked in their own groups; this group adds one PR,
    named in its branch. Its verdict is our check run on its head commit; with none completed
    (or a branch we cannot read), the group fails: the queue must not merge unreviewed code.
    """
    repo = ctx.github.repo(request.installation_id, request.repository)
    match = _QUEUE_REF.search(request.head_ref)
    conclusion: Conclusion = "failure"
    if match is None:
        title = "Not a merge-queue branch backend-review can read"
        summary = f"Cannot tell which pull request `{request.head_ref}` adds."
    else:
        number = int(match.group(1))
        pr = await repo.pull(number)
        ours = ctx.settings.github_app_id
        runs = [
            r
            for r in await repo.check_runs(pr.head_sha)
            if r.status == "completed" and r.app_id == ours  # a workflow may use our name
        ]
        latest = max(runs, key=lambda r: r.id, default=None)
        if latest is None or latest.conclusion is None:
            title = f"#{number} has no completed backend-review check"
            summary = f"Review #{number} first (comment `/backend-review` on it)."
        else:
            conclusion = "success" if latest.conclusion in _PASSING else "failure"
            title = f"#{number}: {latest.title or latest.conclusion}"
            summary = f"The verdict on #{number} at `{pr.head_sha[:12]}` was `{latest.conclusion}`."
    await repo.create_check_run(
        request.head_sha, title=title, summary=summary, conclusion=conclusion
    )
