"""The fake GitHub's objects: plain dataclasses a test builds through `GitHubState` and reads
back (what the bot posted, with every field GitHub would have stored)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.github_diff import FileDiff, parse_diff

PERMISSION_LEVELS = ("admin", "maintain", "write", "triage", "read", "none")
DEFAULT_APP_PERMISSIONS = {
    "checks": "write",
    "contents": "read",
    "issues": "write",
    "merge_queues": "read",
    "metadata": "read",
    "pull_requests": "write",
}
# What an App registered from deploy/app-manifest.yml subscribes to.
DEFAULT_APP_EVENTS = (
    "check_run", "check_suite", "issue_comment", "merge_group", "pull_request",
    "pull_request_review_comment",
)  # fmt: skip


def iso(moment: datetime) -> str:
    """GitHub's timestamp form; githubkit parses token expiry with exactly this format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # or "Bot", "Organization"


@dataclass
class Installation:
    id: int
    account: User
    repository_selection: str = "all"  # or "selected"
    repositories: list[str] = field(default_factory=list)  # full names, when "selected"
    permissions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_APP_PERMISSIONS))
    events: list[str] = field(
        default_factory=lambda: ["check_run", "issue_comment", "pull_request"]
    )
    suspended: bool = False


@dataclass
class Token:
    token: str
    installation_id: int
    expires_at: datetime
    permissions: dict[str, str]
    repositories: list[str] | None  # full names when the token was narrowed, else None
    revoked: bool = False


@dataclass
class Commit:
    sha: str
    message: str
    parents: list[str]
    author: str
    date: datetime


@dataclass
class Repo:
    id: int
    owner: User
    name: str
    default_branch: str = "main"
    private: bool = True
    installation_id: int | None = None
    branches: dict[str, str] = field(default_factory=dict)  # name -> tip SHA
    commits: dict[str, Commit] = field(default_factory=dict)
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # ref -> path -> bytes
    diffs: dict[tuple[str, str], str] = field(default_factory=dict)  # (base, head) -> diff
    permissions: dict[str, str] = field(default_factory=dict)  # login -> level
    created_at: datetime = field(default_factory=lambda: datetime(2024, 1, 2, tzinfo=UTC))

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def ancestors(self, sha: str) -> list[str]:
        """`sha` and every commit it descends from, nearest first."""
        seen: list[str] = []
        queue = [sha]
        while queue:
            current = queue.pop(0)
            if current in seen or current not in self.commits:
                continue
            seen.append(current)
            queue.extend(self.commits[current].parents)
        return seen


@dataclass
class Pull:
    repo: Repo
    number: int
    id: int
    title: str
    body: str | None
    author: User
    head_ref: str
    base_ref: str
    base_sha: str
    commit_shas: list[str]  # oldest first; the last is the head
    diffs: dict[str, str] = field(default_factory=dict)  # head SHA -> the PR's diff at it
    draft: bool = False
    state: str = "open"  # or "closed"
    merged: bool = False
    force_too_large: bool = False  # answer the diff media type with 406 whatever the size
    omitted_patches: set[str] = field(default_factory=set)  # paths listed without `patch`
    created_at: datetime = field(default_factory=lambda: datetime(2026, 11, 20, tzinfo=UTC))

    @property
    def head_sha(self) -> str:
        return self.commit_shas[-1]

    @property
    def diff(self) -> str:
        return self.diffs[self.head_sha]

    def files(self, head_sha: str | None = None) -> list[FileDiff]:
        return parse_diff(self.diffs[head_sha or self.head_sha])


@dataclass
class ReviewComment:
    id: int
    review_id: int
    pull_number: int
    repo: str
    user: User
    body: str
    path: str
    commit_id: str
    line: int | None  # None for a file-level comment
    side: str | None
    start_line: int | None
    start_side: str | None
    subject_type: str  # "line" or "file"
    diff_hunk: str
    in_reply_to_id: int | None
    created_at: datetime
    updated_at: datetime
    position: int | None = None


@dataclass
class Review:
    id: int
    pull_number: int
    repo: str
    user: User
    body: str
    state: str  # PENDING, COMMENTED, APPROVED, CHANGES_REQUESTED
    commit_id: str
    submitted_at: datetime | None
    comments: list[ReviewComment] = field(default_factory=list)


@dataclass
class Reaction:
    id: int
    user: User
    content: str
    created_at: datetime


@dataclass
class IssueComment:
    id: int
    issue_number: int
    repo: str
    user: User
    body: str
    created_at: datetime
    updated_at: datetime
    reactions: list[Reaction] = field(default_factory=list)
    edits: list[str] = field(default_factory=list)  # earlier bodies, oldest first


@dataclass
class CheckRun:
    id: int
    repo: str
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    external_id: str | None
    details_url: str | None
    started_at: datetime
    completed_at: datetime | None
    output: dict[str, Any]  # title, summary, text (the latest given)
    annotations: list[dict[str, Any]] = field(default_factory=list)  # every one, in order
    updates: int = 0  # PATCHes accepted
    actions: list[dict[str, str]] = field(default_factory=list)  # the buttons, as last given
