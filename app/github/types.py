"""What the GitHub adapter hands the pipeline: our own small types, never githubkit's models.

The pipeline reads pull requests, diffs and comments through these, so it does not depend on
githubkit's generated classes (which reject some real payloads, see GITHUB-FACTS), and a test
can build them by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from app.errors import BackendReviewError

CHECK_NAME = "backend-review"


@dataclass(frozen=True, slots=True)
class CheckAction:
    """A button on a check run (GitHub: at most 3; label 20, description 40, identifier 20
    characters). Pressing it sends a `check_run` `requested_action` webhook naming
    `identifier`, only to the App that made the run."""

    label: str
    description: str
    identifier: str


FULL_REVIEW = CheckAction(
    label="Re-review fully",
    description="Review every file again, model included",
    identifier="full-review",
)

Conclusion = Literal["success", "failure", "neutral", "cancelled", "skipped"]
CompareStatus = Literal["ahead", "behind", "diverged", "identical"]
Permission = Literal["admin", "maintain", "write", "triage", "read", "none"]


class GitHubError(BackendReviewError):
    """A GitHub call that did not succeed. `reason` is short and safe to show or log.

    `transient`: a later attempt may succeed (5xx, timeouts, rate limits): the job is retried.
    Otherwise (401 after a token refresh, 403, 404, 422) retrying the job cannot help.
    `retry_after`: seconds GitHub asked us to wait (rate limits), when it said; a requeue should
    not come back sooner.
    """

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.transient = transient
        self.retry_after = retry_after


class ReviewRejected(GitHubError):
    """GitHub refused a pull-request review (422), typically a comment off the diff."""


@dataclass(frozen=True, slots=True)
class PullRequest:
    number: int
    title: str
    body: str
    draft: bool
    state: Literal["open", "closed"]
    merged: bool
    author: str  # login
    head_sha: str
    head_ref: str
    base_sha: str
    base_ref: str
    head_repo: str | None  # owner/name of the head repository; None when it was deleted


@dataclass(frozen=True, slots=True)
class PullDiff:
    """The pull request's diff, from the diff media type or rebuilt from the files list."""

    text: str
    source: Literal["diff", "files"]
    # Files GitHub gave no patch for (binary, too large), or that the files list did not reach,
    # with the reason: the review lists them as not reviewed.
    unseen: Mapping[str, str] = field(default_factory=dict)
    note: str | None = None  # e.g. "GitHub refused the diff (too large); built from the files list"


@dataclass(frozen=True, slots=True)
class Comparison:
    """`base...head` between two commits: how they relate and which files changed."""

    status: CompareStatus
    ahead_by: int
    behind_by: int
    files: tuple[str, ...]  # paths changed between the two commits (new paths for renames)
    # GitHub lists at most 300 files in a comparison: when True, `files` may be incomplete.
    files_truncated: bool = False


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment on the pull request: an issue comment, or a review comment on a line or file."""

    id: int
    kind: Literal["issue", "review"]
    body: str
    author: str  # login
    author_is_bot: bool
    path: str | None = None  # review comments only
    in_reply_to: int | None = None  # review comment replies
    diff_hunk: str = ""  # review comments on a line: the hunk up to the commented line


@dataclass(frozen=True, slots=True)
class CheckRun:
    id: int
    head_sha: str
    status: Literal["queued", "in_progress", "completed", "waiting", "requested", "pending"]
    conclusion: str | None
    title: str | None
    external_id: str | None = None  # ours: the id of the job that created it
    app_id: int | None = None  # the App that created it: anyone can name a check "backend-review"
