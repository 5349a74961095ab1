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
    # A reply in a review thread: the thread's first comment (ours, naming the finding). None:
    # a comment in the pull request's conversation.
    thread_root: int | None = None


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


class ActionJob(Payload):
    """Someone pressed a button on a check run (`requested_action`). GitHub sends it to the App
    that made the run; `app_id` (the run's App, from the event) is checked when the job runs,
    against our own id, before anything is queued."""

    kind: Literal["requested_action"] = "requested_action"
    installation_id: int
    repository: str
    repository_id: int
    head_sha: str
    numbers: tuple[int, ...]  # the pull requests GitHub named (none for a fork's)
    app_id: int | None
    identifier: str
    sender: str | None = None  # who pressed it; None (a job queued by an older version): refused


class MergeGroupJob(Payload):
    """A merge queue asks for our check on the merge group's head commit."""

    kind: Literal["merge_group"] = "merge_group"
    installation_id: int
    repository: str
    repository_id: int
    head_sha: str
    head_ref: str
    base_ref: str


JobPayload = (
    ReviewJob | CommandJob | InstallationJob | ClosedJob | RerunJob | MergeGroupJob | ActionJob
)


# A review someone asked for by pressing the check run's "Re-review fully": always a full one.
FULL_REVIEW_TRIGGER = "check_run.requested_action"


def review_key(repository_id: int, number: int) -> str:
    return f"review:{repository_id}:{number}"
