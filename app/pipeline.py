"""What a job does, by kind. The review itself (gather → core → publish) lands in later issues;
until then each kind validates its payload, logs what it would do, and is recorded as done."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from app.routing import CommandJob, InstallationJob, ReviewJob
from app.store.jobs import ClaimedJob

log = logging.getLogger(__name__)

JobHandler = Callable[[ClaimedJob], Awaitable[None]]


class PermanentJobError(Exception):
    """Retrying cannot help (e.g. a payload we cannot read): the job goes straight to dead."""


M = TypeVar("M", bound=BaseModel)


def _payload(model: type[M], job: ClaimedJob) -> M:
    try:
        return model.model_validate(job.payload)
    except ValidationError as exc:
        raise PermanentJobError(
            f"unreadable {job.kind} payload: {exc.error_count()} errors"
        ) from None


async def review(job: ClaimedJob) -> None:
    request = _payload(ReviewJob, job)
    log.info(
        "review of %s#%d at %s (%s): publishing reviews is not enabled in this version",
        request.repository,
        request.number,
        request.head_sha[:12],
        request.trigger,
    )


async def command(job: ClaimedJob) -> None:
    request = _payload(CommandJob, job)
    log.info(
        "command from %s on %s#%d: commands are not enabled in this version",
        request.author,
        request.repository,
        request.number,
    )


async def installation(job: ClaimedJob) -> None:
    request = _payload(InstallationJob, job)
    log.info("installation %d %s", request.installation_id, request.action or "changed")


def default_handlers() -> Mapping[str, JobHandler]:
    return {"review": review, "command": command, "installation": installation}
