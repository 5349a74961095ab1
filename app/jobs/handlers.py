"""What a job does, by kind: the table the worker runs jobs from.

Each handler validates its payload (an unreadable one is dead at once) and hands it to its
module in `app/jobs/`. Errors are sorted here for the worker: a GitHub error that retrying
cannot fix (401 after a token refresh, 403, 404, 422) becomes a `PermanentJobError`, like a
review that cannot be done (a diff we cannot parse); everything else is retried with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import PermanentJobError
from app.github.types import GitHubError
from app.jobs.payloads import (
    ActionJob,
    ClosedJob,
    CommandJob,
    InstallationJob,
    MergeGroupJob,
    RerunJob,
    ReviewJob,
)
from app.store.jobs import BuriedJob, ClaimedJob

if TYPE_CHECKING:  # the jobs import the SDKs: loaded when handlers are built, not before
    from app.jobs.context import JobContext

log = logging.getLogger(__name__)

JobHandler = Callable[[ClaimedJob], Awaitable[None]]
# Run for a job that went dead without running to an end (its lease expired on each attempt).
DeadHandler = Callable[[BuriedJob], Awaitable[None]]


M = TypeVar("M", bound=BaseModel)


def _payload(model: type[M], job: ClaimedJob) -> M:
    try:
        return model.model_validate(job.payload)
    except ValidationError as exc:
        raise PermanentJobError(
            f"unreadable {job.kind} payload: {exc.error_count()} errors"
        ) from None


async def _sorted_errors(work: Awaitable[None]) -> None:
    try:
        await work
    except GitHubError as exc:
        if exc.transient:
            raise
        raise PermanentJobError(f"GitHub: {exc.reason}") from None


async def installation(job: ClaimedJob) -> None:
    request = _payload(InstallationJob, job)
    log.info("installation %d %s", request.installation_id, request.action or "changed")


def build_handlers(ctx: JobContext | None) -> Mapping[str, JobHandler]:
    """The handlers for a process; without a GitHub App (`ctx` None) GitHub jobs wait and retry:
    they were accepted, and run once the App is configured and the process restarted."""
    from app.jobs import commands, events, review

    def needs_github(kind: str) -> JobHandler:
        async def not_configured(job: ClaimedJob) -> None:
            raise RuntimeError(f"{kind} job: the GitHub App is not configured (GITHUB_APP_ID)")

        return not_configured

    if ctx is None:
        kinds = ("review", "command", "closed", "rerun", "merge_group", "requested_action")
        return {**{k: needs_github(k) for k in kinds}, "installation": installation}
    context = ctx

    async def on_review(job: ClaimedJob) -> None:
        request = _payload(ReviewJob, job)
        await _sorted_errors(review.review_pull_request(context, job, request))

    async def on_command(job: ClaimedJob) -> None:
        await _sorted_errors(commands.run_command(context, _payload(CommandJob, job)))

    async def on_closed(job: ClaimedJob) -> None:
        await events.closed(context, _payload(ClosedJob, job))

    async def on_rerun(job: ClaimedJob) -> None:
        await _sorted_errors(events.rerun(context, _payload(RerunJob, job)))

    async def on_merge_group(job: ClaimedJob) -> None:
        await _sorted_errors(events.merge_group(context, _payload(MergeGroupJob, job)))

    async def on_requested_action(job: ClaimedJob) -> None:
        await _sorted_errors(events.requested_action(context, _payload(ActionJob, job)))

    return {
        "requested_action": on_requested_action,
        "review": on_review,
        "command": on_command,
        "closed": on_closed,
        "rerun": on_rerun,
        "merge_group": on_merge_group,
        "installation": installation,
    }


def build_dead_handlers(ctx: JobContext | None) -> Mapping[str, DeadHandler]:
    """What closes up after a job that died unfinished: a review's check run in progress."""
    from app.jobs import review

    if ctx is None:
        return {}
    context = ctx

    async def on_dead_review(buried: BuriedJob) -> None:
        try:
            request = ReviewJob.model_validate(buried.job.payload)
        except ValidationError:
            return  # nothing to close: it never got as far as opening a check run
        await review.close_dead_review(context, buried.job, request, buried.reason)

    return {"review": on_dead_review}
