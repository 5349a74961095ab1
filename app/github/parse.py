"""GitHub's JSON read into our types (app.github.types). Pure functions.

We read the fields we need from the JSON ourselves instead of githubkit's generated models,
which reject some real payloads (GITHUB-FACTS). An answer without a field we need is a
`GitHubError` naming what was being read, never a KeyError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast, get_args

from app.github.types import (
    CheckRun,
    Comment,
    CompareStatus,
    Comparison,
    GitHubError,
    Permission,
    PullRequest,
)

T = TypeVar("T")

COMPARE_FILES_LIMIT = 300  # GitHub lists at most this many files in one comparison
_PERMISSIONS: frozenset[str] = frozenset(get_args(Permission))
_CHECK_STATUSES = frozenset(
    {"queued", "in_progress", "completed", "waiting", "requested", "pending"}
)


class JsonAnswer(Protocol):
    def json(self) -> Any: ...


def read(what: str, reader: Callable[[Any], T], answer: JsonAnswer) -> T:
    """`reader(answer.json())`; a malformed answer is a GitHubError about `what`, not a KeyError."""
    return read_data(what, lambda _: reader(answer.json()), None)


def read_data(what: str, reader: Callable[[Any], T], data: Any) -> T:
    """`reader(data)`, with data of the wrong shape turned into a GitHubError about `what`."""
    try:
        return reader(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise GitHubError(
            f"unexpected answer from GitHub for {what} ({type(exc).__name__})"
        ) from None


def pull_request(data: Any) -> PullRequest:
    head, base = data["head"], data["base"]
    head_repo = head.get("repo")
    state = data["state"]
    if state not in ("open", "closed"):
        raise ValueError("state")
    return PullRequest(
        number=int(data["number"]),
        title=str(data["title"]),
        body=data.get("body") or "",
        draft=bool(data.get("draft", False)),
        state=state,
        merged=bool(data.get("merged", False) or data.get("merged_at")),
        author=_login(data.get("user")),
        head_sha=str(head["sha"]),
        head_ref=str(head["ref"]),
        base_sha=str(base["sha"]),
        base_ref=str(base["ref"]),
        head_repo=str(head_repo["full_name"]) if head_repo else None,
    )


def comparison(data: Any) -> Comparison:
    status = data["status"]
    if status not in get_args(CompareStatus):
        raise ValueError("status")
    files = data.get("files") or []
    return Comparison(
        status=cast(CompareStatus, status),
        ahead_by=int(data["ahead_by"]),
        behind_by=int(data["behind_by"]),
        files=tuple(str(f["filename"]) for f in files),
        files_truncated=len(files) >= COMPARE_FILES_LIMIT,
    )


def comment(data: Any, kind: str) -> Comment:
    user = data.get("user")
    reply_to = data.get("in_reply_to_id")
    return Comment(
        id=int(data["id"]),
        kind="review" if kind == "review" else "issue",
        body=data.get("body") or "",
        author=_login(user),
        author_is_bot=bool(user) and user.get("type") == "Bot",
        path=data.get("path") if kind == "review" else None,
        in_reply_to=int(reply_to) if reply_to is not None else None,
        diff_hunk=str(data.get("diff_hunk") or "") if kind == "review" else "",
    )


def check_run(data: Any) -> CheckRun:
    status = data["status"]
    if status not in _CHECK_STATUSES:
        raise ValueError("status")
    output = data.get("output") or {}
    return CheckRun(
        id=int(data["id"]),
        head_sha=str(data["head_sha"]),
        status=status,
        conclusion=data.get("conclusion"),
        title=output.get("title"),
        external_id=data.get("external_id"),
        app_id=_app_id(data.get("app")),
    )


def _app_id(app: Any) -> int | None:
    return int(app["id"]) if isinstance(app, dict) and "id" in app else None


def permission(data: Any) -> Permission:
    """The collaborator's role: `role_name` (which knows maintain and triage), else `permission`.

    A custom role's name is not one of ours: its base `permission` is used instead.
    """
    role = data.get("role_name")
    if role in _PERMISSIONS:
        return cast(Permission, role)
    legacy = data["permission"]
    if legacy not in _PERMISSIONS:
        raise ValueError("permission")
    return cast(Permission, legacy)


def object_id(data: Any) -> int:
    return int(data["id"])


def items(key: str | None = None) -> Callable[[Any], list[Any]]:
    """A page's items: the list itself, or the list under `key` (e.g. `check_runs`)."""

    def page_items(data: Any) -> list[Any]:
        found = data[key] if key is not None else data
        if not isinstance(found, list):
            raise TypeError("not a list")
        return found

    return page_items


def _login(user: Any) -> str:
    # A deleted account comes back as null on some endpoints; GitHub shows it as "ghost".
    return str(user["login"]) if user else "ghost"
