"""Which GitHub events become which jobs: a table of small handlers, one per event.

Each handler reads only the fields it needs from the (already verified) JSON and returns the
jobs to queue; an empty tuple means "stored and ignored". A handled event that lacks a field
we need is a bad request. The jobs' payloads are in `app.jobs.payloads`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from app.errors import WebhookError
from app.github.types import FULL_REVIEW
from app.jobs.payloads import (
    ActionJob,
    ClosedJob,
    CommandJob,
    InstallationJob,
    MergeGroupJob,
    RerunJob,
    ReviewJob,
    review_key,
)
from app.store.jobs import NewJob

COMMAND_PREFIX = "/backend-review"
REVIEW_ACTIONS = frozenset({"opened", "reopened", "ready_for_review", "synchronize"})


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Repo(_Lenient):
    id: int
    full_name: str


class Installation(_Lenient):
    id: int


class _Ref(_Lenient):
    sha: str


class _PullRequest(_Lenient):
    number: int
    draft: bool = False
    head: _Ref
    base: _Ref


class _User(_Lenient):
    login: str
    type: str = "User"


class _Comment(_Lenient):
    id: int
    body: str
    user: _User


class _Issue(_Lenient):
    number: int
    pull_request: dict[str, Any] | None = None


class _PrRef(_Lenient):
    number: int


class _CheckTarget(_Lenient):
    head_sha: str
    pull_requests: list[_PrRef] = []


class _App(_Lenient):
    id: int


class _CheckRun(_CheckTarget):
    app: _App | None = None


class _RequestedAction(_Lenient):
    identifier: str


def _review(job: ReviewJob) -> NewJob:
    return NewJob(
        "review", job.model_dump(), coalesce_key=review_key(job.repository_id, job.number)
    )


# ----- handlers -----


class _PullRequestEvent(_Lenient):
    action: str
    pull_request: _PullRequest
    repository: Repo
    installation: Installation
    before: str | None = None


def on_pull_request(payload: Mapping[str, Any]) -> tuple[NewJob, ...]:
    if payload.get("action") == "closed":
        return _closed(_parse(_PullRequestEvent, payload))
    if payload.get("action") not in REVIEW_ACTIONS and not _base_changed(payload):
        return ()
    event = _parse(_PullRequestEvent, payload)
    pr = event.pull_request
    return (
        _review(
            ReviewJob(
                installation_id=event.installation.id,
                repository=event.repository.full_name,
                repository_id=event.repository.id,
                number=pr.number,
                head_sha=pr.head.sha,
                base_sha=pr.base.sha,
                before_sha=event.before if event.action == "synchronize" else None,
                trigger=f"pull_request.{event.action}",
                draft=pr.draft,
            )
        ),
    )


def _base_changed(payload: Mapping[str, Any]) -> bool:
    """An edit that points the PR at another base branch: the config and diff that gate it
    change, and the check on its head must follow (a PR must not keep a verdict it got
    against a branch whose config it wrote)."""
    changes = payload.get("changes")
    return payload.get("action") == "edited" and isinstance(changes, dict) and "base" in changes


def _closed(event: _PullRequestEvent) -> tuple[NewJob, ...]:
    job = ClosedJob(
        installation_id=event.installation.id,
        repository=event.repository.full_name,
        repository_id=event.repository.id,
        number=event.pull_request.number,
    )
    # Same key as the PR's reviews: queuing it supersedes any review still waiting.
    key = review_key(job.repository_id, job.number)
    return (NewJob("closed", job.model_dump(), coalesce_key=key),)


class _IssueCommentEvent(_Lenient):
    action: str
    issue: _Issue
    comment: _Comment
    repository: Repo
    installation: Installation


def on_issue_comment(payload: Mapping[str, Any]) -> tuple[NewJob, ...]:
    if payload.get("action") != "created":
        return ()
    event = _parse(_IssueCommentEvent, payload)
    if event.issue.pull_request is None or event.comment.user.type == "Bot":
        return ()
    if not _is_command(event.comment.body):
        return ()
    return _command(event.repository, event.installation, event.issue.number, event.comment)


def _command(
    repo: Repo,
    installation: Installation,
    number: int,
    comment: _Comment,
    thread_root: int | None = None,
) -> tuple[NewJob, ...]:
    """The command job for `comment` on pull request `number` (`thread_root`: the review
    thread it was written in, when it was)."""
    job = CommandJob(
        installation_id=installation.id,
        repository=repo.full_name,
        repository_id=repo.id,
        number=number,
        comment_id=comment.id,
        author=comment.user.login,
        body=comment.body[:2000],
        thread_root=thread_root,
    )
    return (NewJob("command", job.model_dump()),)


class _ReviewComment(_Comment):
    in_reply_to_id: int | None = None


class _ReviewCommentEvent(_Lenient):
    action: str
    comment: _ReviewComment
    pull_request: _PrRef
    repository: Repo
    installation: Installation


def on_pull_request_review_comment(payload: Mapping[str, Any]) -> tuple[NewJob, ...]:
    """A command written as a reply in a review thread (a finding's, when the thread is ours:
    the command job checks). A new comment on a line is its own thread's first comment."""
    if payload.get("action") != "created":
        return ()
    event = _parse(_ReviewCommentEvent, payload)
    comment = event.comment
    if comment.user.type == "Bot" or not _is_command(comment.body):
        return ()
    root = comment.in_reply_to_id or comment.id
    return _command(event.repository, event.installation, event.pull_request.number, comment, root)


def _is_command(body: str) -> bool:
    return body.lstrip().split(maxsplit=1)[:1] == [COMMAND_PREFIX]


class _CheckRunEvent(_Lenient):
    action: str
    check_run: _CheckRun
    repository: Repo
    installation: Installation
    requested_action: _RequestedAction | None = None
    sender: _User | None = None


class _CheckSuiteEvent(_Lenient):
    action: str
    check_suite: _CheckTarget
    repository: Repo
    installation: Installation


def _rerequested(
    target: _CheckTarget, repo: Repo, inst: Installation, trigger: str
) -> tuple[NewJob, ...]:
    if not target.pull_requests:
        # GitHub leaves pull_requests empty for a PR from a fork: find it by the commit later.
        rerun = RerunJob(
            installation_id=inst.id,
            repository=repo.full_name,
            repository_id=repo.id,
            head_sha=target.head_sha,
            trigger=trigger,
        )
        return (NewJob("rerun", rerun.model_dump()),)
    return tuple(
        _review(
            ReviewJob(
                installation_id=inst.id,
                repository=repo.full_name,
                repository_id=repo.id,
                number=pr.number,
                head_sha=target.head_sha,
                trigger=trigger,
            )
        )
        for pr in target.pull_requests
    )


def on_check_run(payload: Mapping[str, Any]) -> tuple[NewJob, ...]:
    if payload.get("action") == "requested_action":
        return _requested_action(_parse(_CheckRunEvent, payload))
    if payload.get("action") != "rerequested":
        return ()
    event = _parse(_CheckRunEvent, payload)
    return _rerequested(
        event.check_run, event.repository, event.installation, "check_run.rerequested"
    )


def _requested_action(event: _CheckRunEvent) -> tuple[NewJob, ...]:
    """A button of ours (`FULL_REVIEW`) pressed on a check run: a full review of its head,
    once the job has checked the run is our App's."""
    if event.requested_action is None:
        raise WebhookError(400, "payload field requested_action: Field required")
    if event.requested_action.identifier != FULL_REVIEW.identifier:
        return ()
    run = event.check_run
    job = ActionJob(
        installation_id=event.installation.id,
        repository=event.repository.full_name,
        repository_id=event.repository.id,
        head_sha=run.head_sha,
        numbers=tuple(pr.number for pr in run.pull_requests),
        app_id=run.app.id if run.app is not None else None,
        identifier=event.requested_action.identifier,
        sender=event.sender.login if event.sender is not None else None,
    )
    return (NewJob("requested_action", job.model_dump()),)


def on_check_suite(payload: Mapping[str, Any]) -> tuple[NewJob, ...]:
    if payload.get("action") != "rerequested":
        return ()
    event = _parse(_CheckSuiteEvent, payload)
    return _rerequested(
        event.check_suite, event.repository, event.installation, "check_suite.rerequested"
    )


class _MergeGroup(_Lenient):
    head_sha: str
    head_ref: str
    base_ref: str


class _MergeGroupEvent(_Lenient):
    action: str
    merge_group: _MergeGroup
    repository: Repo
    installation: Installation


def on_merge_group(payload: Mapping[str, Any]) -> tuple[NewJob, ...]:
    if payload.get("action") != "checks_requested":
        return ()
    event = _parse(_MergeGroupEvent, payload)
    group = event.merge_group
    job = MergeGroupJob(
        installation_id=event.installation.id,
        repository=event.repository.full_name,
        repository_id=event.repository.id,
        head_sha=group.head_sha,
        head_ref=group.head_ref,
        base_ref=group.base_ref,
    )
    return (NewJob("merge_group", job.model_dump()),)


class _InstallationEvent(_Lenient):
    action: str | None = None
    installation: Installation


def on_installation(payload: Mapping[str, Any]) -> tuple[NewJob, ...]:
    event = _parse(_InstallationEvent, payload)
    job = InstallationJob(installation_id=event.installation.id, action=event.action)
    return (
        NewJob(
            "installation", job.model_dump(), coalesce_key=f"installation:{job.installation_id}"
        ),
    )


Handler = Callable[[Mapping[str, Any]], tuple[NewJob, ...]]

HANDLERS: Mapping[str, Handler] = {
    "pull_request": on_pull_request,
    "issue_comment": on_issue_comment,
    "pull_request_review_comment": on_pull_request_review_comment,
    "check_run": on_check_run,
    "check_suite": on_check_suite,
    "merge_group": on_merge_group,
    "installation": on_installation,
    "installation_repositories": on_installation,
    "installation_target": on_installation,
}


def route(event: str, payload: Mapping[str, Any]) -> tuple[NewJob, ...]:
    """The jobs a delivery creates; () for events and actions we do not act on."""
    handler = HANDLERS.get(event)
    return handler(payload) if handler else ()


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], payload: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise WebhookError(400, f"payload field {where}: {first['msg']}") from None
