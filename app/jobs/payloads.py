"""The job payloads: what the webhook intake queues and the worker receives, one model per kind.

They are the contract between `app.jobs.routing` (which builds them from verified webhook JSON)
and the handlers in `app.jobs.handlers` (which validate them back from the job row).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """Unknown fields are ignored: a job queued by an older or newer release still runs."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class ReviewJob(Payload):
    kind: Literal["review"] = "review"
    installation_id: int
    repository: str
    repository_id: int
    number: int
    # The head when the event fired. A review always fetches the PR's current head, so a job
    # from an older event (a re-run check) that supersedes a newer one still reviews new code.
    head_sha: str
    base_sha: str | None = None
    before_sha: str | None = None  # synchronize: the head we may have reviewed already
    trigger: str  # pull_request.opened, check_run.rerequested, …
    draft: bool = False


class CommandJob(Payload):
    """A `/backend-review` comment. Who may run it is decided when it runs (collaborator
    permission through the API), not here: the webhook's author_association is not enough."""

    kind: Literal["command"] = "command"
    installation_id: int
    repository: str
    repository_id: int
    number: int
    comment_id: int
    author: str
    body: str


class InstallationJob(Payload):
    kind: Literal["installation"] = "installation"
    installation_id: int
    action: str | None


class ClosedJob(Payload):
    """A pull request closed: its key supersedes queued reviews, and running ones see it."""

    kind: Literal["closed"] = "closed"
    installation_id: int
    repository: str
    repository_id: int
    number: int


class RerunJob(Payload):
    """A re-run of our check on a commit whose event named no pull request (one from a fork):
    the pull requests are looked up by the commit when the job runs."""

    kind: Literal["rerun"] = "rerun"
    installation_id: int
    repository: str
    repository_id: int
    head_sha: str
    trigger: str


class MergeGroupJob(Payload):
    """A merge queue asks for our check on the merge group's head commit."""

    kind: Literal["merge_group"] = "merge_group"
    installation_id: int
    repository: str
    repository_id: int
    head_sha: str
    head_ref: str
    base_ref: str


JobPayload = ReviewJob | CommandJob | InstallationJob | ClosedJob | RerunJob | MergeGroupJob


def review_key(repository_id: int, number: int) -> str:
    return f"review:{repository_id}:{number}"
