"""Webhook bodies shaped like GitHub's (the fields we read, plus the bulk GitHub sends)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

OWNER = {"login": "acme", "id": 9919, "type": "Organization", "site_admin": False}
REPO = {
    "id": 1296269,
    "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
    "name": "payments",
    "full_name": "acme/payments",
    "private": True,
    "owner": OWNER,
    "html_url": "https://github.com/acme/payments",
    "default_branch": "main",
    "visibility": "private",
}
INSTALLATION = {"id": 42, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI="}
USER = {"login": "octocat", "id": 583231, "type": "User", "site_admin": False}


def sign(secret: str, body: bytes) -> str:
    """GitHub's X-Hub-Signature-256, computed here independently of the app's code."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def pull_request(
    action: str = "opened", number: int = 7, head: str = "a" * 40, **extra: Any
) -> dict[str, Any]:
    pr = {
        "url": f"https://api.github.com/repos/acme/payments/pulls/{number}",
        "id": 1000 + number,
        "number": number,
        "state": "open",
        "locked": False,
        "title": "Add refunds endpoint",
        "user": USER,
        "body": "Implements ENG-123.\n\nAdds POST /refunds.",
        "draft": False,
        "head": {
            "label": "acme:refunds",
            "ref": "refunds",
            "sha": head,
            "user": OWNER,
            "repo": REPO,
        },
        "base": {"label": "acme:main", "ref": "main", "sha": "b" * 40, "user": OWNER, "repo": REPO},
        "author_association": "MEMBER",
        "merged": False,
        "commits": 3,
        "additions": 120,
        "deletions": 4,
        "changed_files": 5,
        "labels": [],
        "requested_reviewers": [],
    }
    body: dict[str, Any] = {
        "action": action,
        "number": number,
        "pull_request": pr,
        "repository": REPO,
        "organization": OWNER,
        "sender": USER,
        "installation": INSTALLATION,
    }
    if action == "synchronize":
        body["before"] = "c" * 40
        body["after"] = head
    body.update(extra)
    return body


def issue_comment(
    body: str, *, on_pull_request: bool = True, user: dict[str, Any] | None = None
) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "number": 7,
        "title": "Add refunds endpoint",
        "user": USER,
        "state": "open",
    }
    if on_pull_request:
        issue["pull_request"] = {"url": "https://api.github.com/repos/acme/payments/pulls/7"}
    return {
        "action": "created",
        "issue": issue,
        "comment": {"id": 555, "body": body, "user": user or USER, "author_association": "MEMBER"},
        "repository": REPO,
        "sender": user or USER,
        "installation": INSTALLATION,
    }


def review_comment(
    body: str,
    *,
    in_reply_to: int | None = 900,
    user: dict[str, Any] | None = None,
    action: str = "created",
    comment_id: int = 556,
) -> dict[str, Any]:
    """A `pull_request_review_comment` delivery: a comment on a line, or a reply in a thread."""
    comment: dict[str, Any] = {
        "id": comment_id,
        "pull_request_review_id": 80000001,
        "body": body,
        "user": user or USER,
        "path": "app/api/refunds.py",
        "diff_hunk": "@@ -0,0 +1,3 @@\n+def refund():\n+    pass",
        "line": 3,
        "side": "RIGHT",
        "subject_type": "line",
        "author_association": "MEMBER",
    }
    if in_reply_to is not None:
        comment["in_reply_to_id"] = in_reply_to
    pr = pull_request(number=7)["pull_request"]
    return {
        "action": action,
        "comment": comment,
        "pull_request": pr,
        "repository": REPO,
        "sender": user or USER,
        "installation": INSTALLATION,
    }


def check_run_rerequested(numbers: tuple[int, ...] = (7,)) -> dict[str, Any]:
    return {
        "action": "rerequested",
        "check_run": {
            "id": 4,
            "name": "backend-review",
            "head_sha": "d" * 40,
            "status": "completed",
            "pull_requests": [{"number": n, "id": 1000 + n} for n in numbers],
        },
        "repository": REPO,
        "sender": USER,
        "installation": INSTALLATION,
    }


def check_run_requested_action(
    identifier: str = "full-review",
    *,
    app_id: int = 424242,
    numbers: tuple[int, ...] = (7,),
    head: str = "d" * 40,
) -> dict[str, Any]:
    """Someone pressed a button of the check run (GitHub sends it to the run's App only)."""
    return {
        "action": "requested_action",
        "check_run": {
            "id": 4,
            "name": "backend-review",
            "head_sha": head,
            "status": "completed",
            "conclusion": "failure",
            "app": {"id": app_id, "slug": "backend-review", "name": "Backend Review"},
            "pull_requests": [{"number": n, "id": 1000 + n} for n in numbers],
        },
        "requested_action": {"identifier": identifier},
        "repository": REPO,
        "sender": USER,
        "installation": INSTALLATION,
    }


def check_suite_rerequested(numbers: tuple[int, ...] = (7,)) -> dict[str, Any]:
    return {
        "action": "rerequested",
        "check_suite": {
            "id": 5,
            "head_sha": "e" * 40,
            "status": "completed",
            "pull_requests": [{"number": n, "id": 1000 + n} for n in numbers],
        },
        "repository": REPO,
        "sender": USER,
        "installation": INSTALLATION,
    }


def merge_group(action: str = "checks_requested", number: int = 7) -> dict[str, Any]:
    head = "f" * 40
    return {
        "action": action,
        "merge_group": {
            "head_sha": head,
            "head_ref": f"refs/heads/gh-readonly-queue/main/pr-{number}-{'a' * 40}",
            "base_sha": "b" * 40,
            "base_ref": "refs/heads/main",
            "head_commit": {"id": head, "message": "Merge pull request", "tree_id": "0" * 40},
        },
        "repository": REPO,
        "sender": USER,
        "installation": INSTALLATION,
    }


def installation(action: str = "created") -> dict[str, Any]:
    return {"action": action, "installation": {**INSTALLATION, "account": OWNER}, "sender": USER}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
