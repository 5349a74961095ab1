"""A realistic `pull_request` webhook body, shaped like GitHub's (~20 KB), for the intake bench.

GitHub repeats the full user and repository objects in `pull_request.user`, `head.repo`,
`base.repo`, `repository`, `organization` and `sender`; that is what makes a real delivery
10-25 KB. The fields the router needs (`action`, `pull_request.number/draft/head.sha/base.sha`,
`repository.id/full_name`, `installation.id`) are all present and valid.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

API = "https://api.github.com"
WEB = "https://github.com"
OWNER = "acme-corp"
REPO = "payments-service"
REPO_ID = 734_812_093
INSTALLATION_ID = 48_201_337
STAMP = "2026-03-04T09:15:27Z"


def _sha(seed: str) -> str:
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()


def user(login: str, uid: int, kind: str = "User") -> dict[str, Any]:
    u = f"{API}/users/{login}"
    return {
        "login": login,
        "id": uid,
        "node_id": f"MDQ6VXNlcj{uid}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": u,
        "html_url": f"{WEB}/{login}",
        "followers_url": f"{u}/followers",
        "following_url": f"{u}/following{{/other_user}}",
        "gists_url": f"{u}/gists{{/gist_id}}",
        "starred_url": f"{u}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{u}/subscriptions",
        "organizations_url": f"{u}/orgs",
        "repos_url": f"{u}/repos",
        "events_url": f"{u}/events{{/privacy}}",
        "received_events_url": f"{u}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def repository(owner: dict[str, Any]) -> dict[str, Any]:
    full = f"{OWNER}/{REPO}"
    r = f"{API}/repos/{full}"
    return {
        "id": REPO_ID,
        "node_id": "R_kgDOK8xYzQ",
        "name": REPO,
        "full_name": full,
        "private": True,
        "owner": owner,
        "html_url": f"{WEB}/{full}",
        "description": "Payment intents, refunds and ledger reconciliation for the checkout flow",
        "fork": False,
        "url": r,
        "forks_url": f"{r}/forks",
        "keys_url": f"{r}/keys{{/key_id}}",
        "collaborators_url": f"{r}/collaborators{{/collaborator}}",
        "teams_url": f"{r}/teams",
        "hooks_url": f"{r}/hooks",
        "issue_events_url": f"{r}/issues/events{{/number}}",
        "events_url": f"{r}/events",
        "assignees_url": f"{r}/assignees{{/user}}",
        "branches_url": f"{r}/branches{{/branch}}",
        "tags_url": f"{r}/tags",
        "blobs_url": f"{r}/git/blobs{{/sha}}",
        "git_tags_url": f"{r}/git/tags{{/sha}}",
        "git_refs_url": f"{r}/git/refs{{/sha}}",
        "trees_url": f"{r}/git/trees{{/sha}}",
        "statuses_url": f"{r}/statuses/{{sha}}",
        "languages_url": f"{r}/languages",
        "stargazers_url": f"{r}/stargazers",
        "contributors_url": f"{r}/contributors",
        "subscribers_url": f"{r}/subscribers",
        "subscription_url": f"{r}/subscription",
        "commits_url": f"{r}/commits{{/sha}}",
        "git_commits_url": f"{r}/git/commits{{/sha}}",
        "comments_url": f"{r}/comments{{/number}}",
        "issue_comment_url": f"{r}/issues/comments{{/number}}",
        "contents_url": f"{r}/contents/{{+path}}",
        "compare_url": f"{r}/compare/{{base}}...{{head}}",
        "merges_url": f"{r}/merges",
        "archive_url": f"{r}/{{archive_format}}{{/ref}}",
        "downloads_url": f"{r}/downloads",
        "issues_url": f"{r}/issues{{/number}}",
        "pulls_url": f"{r}/pulls{{/number}}",
        "milestones_url": f"{r}/milestones{{/number}}",
        "notifications_url": f"{r}/notifications{{?since,all,participating}}",
        "labels_url": f"{r}/labels{{/name}}",
        "releases_url": f"{r}/releases{{/id}}",
        "deployments_url": f"{r}/deployments",
        "created_at": "2024-01-02T10:11:12Z",
        "updated_at": STAMP,
        "pushed_at": STAMP,
        "git_url": f"git://github.com/{full}.git",
        "ssh_url": f"git@github.com:{full}.git",
        "clone_url": f"{WEB}/{full}.git",
        "svn_url": f"{WEB}/{full}",
        "homepage": None,
        "size": 48_213,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": "Python",
        "has_issues": True,
        "has_projects": False,
        "has_downloads": True,
        "has_wiki": False,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": 37,
        "license": None,
        "allow_forking": False,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": ["payments", "fastapi", "postgresql"],
        "visibility": "private",
        "forks": 0,
        "open_issues": 37,
        "watchers": 0,
        "default_branch": "main",
        "allow_squash_merge": True,
        "allow_merge_commit": False,
        "allow_rebase_merge": False,
        "allow_auto_merge": True,
        "delete_branch_on_merge": True,
        "allow_update_branch": True,
        "use_squash_pr_title_as_default": True,
        "squash_merge_commit_message": "PR_BODY",
        "squash_merge_commit_title": "PR_TITLE",
        "merge_commit_message": "PR_TITLE",
        "merge_commit_title": "MERGE_MESSAGE",
    }


_BODY = (
    "## What\n\nAdds idempotency keys to `POST /v1/refunds` so a retried request cannot refund "
    "twice. The key is stored with the refund in the same transaction.\n\n"
    "## Why\n\nFixes PAY-1482: duplicate refunds during the gateway timeout incident.\n\n"
    "## How to test\n\n- `make test`\n- replay `fixtures/refund_retry.har`\n\n"
    "## Checklist\n\n- [x] migration has a downgrade\n- [x] new endpoint is behind authz\n"
    "- [ ] dashboards updated\n"
)


def pull_request_event(number: int, *, action: str = "synchronize") -> dict[str, Any]:
    """A `pull_request` delivery for PR `number`; head SHA changes with the number."""
    org = user(OWNER, 91_002_331, "Organization")
    author = user("dev-" + str(number % 17), 5_100_000 + number % 17)
    repo = repository(org)
    head_sha, base_sha, before = _sha(f"head{number}"), _sha("base"), _sha(f"prev{number}")
    p = f"{API}/repos/{OWNER}/{REPO}/pulls/{number}"
    issue = f"{API}/repos/{OWNER}/{REPO}/issues/{number}"
    html = f"{WEB}/{OWNER}/{REPO}/pull/{number}"
    pr = {
        "url": p,
        "id": 2_100_000_000 + number,
        "node_id": f"PR_kwDOK8xYzc5{number:08d}",
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue,
        "number": number,
        "state": "open",
        "locked": False,
        "title": f"PAY-{1400 + number}: idempotent refunds for retried requests",
        "user": author,
        "body": _BODY,
        "created_at": STAMP,
        "updated_at": STAMP,
        "closed_at": None,
        "merged_at": None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": [
            {
                "id": 6_100_000_001,
                "node_id": "LA_kwDOK8xYzc8AAAABa1",
                "url": f"{API}/repos/{OWNER}/{REPO}/labels/backend",
                "name": "backend",
                "color": "0e8a16",
                "default": False,
                "description": "Server-side change",
            }
        ],
        "milestone": None,
        "draft": False,
        "commits_url": f"{p}/commits",
        "review_comments_url": f"{p}/comments",
        "review_comment_url": f"{API}/repos/{OWNER}/{REPO}/pulls/comments{{/number}}",
        "comments_url": f"{issue}/comments",
        "statuses_url": f"{API}/repos/{OWNER}/{REPO}/statuses/{head_sha}",
        "head": {
            "label": f"{OWNER}:feature/pay-{1400 + number}",
            "ref": f"feature/pay-{1400 + number}",
            "sha": head_sha,
            "user": org,
            "repo": repo,
        },
        "base": {
            "label": f"{OWNER}:main",
            "ref": "main",
            "sha": base_sha,
            "user": org,
            "repo": repo,
        },
        "_links": {
            "self": {"href": p},
            "html": {"href": html},
            "issue": {"href": issue},
            "comments": {"href": f"{issue}/comments"},
            "review_comments": {"href": f"{p}/comments"},
            "review_comment": {"href": f"{API}/repos/{OWNER}/{REPO}/pulls/comments{{/number}}"},
            "commits": {"href": f"{p}/commits"},
            "statuses": {"href": f"{API}/repos/{OWNER}/{REPO}/statuses/{head_sha}"},
        },
        "author_association": "MEMBER",
        "auto_merge": None,
        "active_lock_reason": None,
        "merged": False,
        "mergeable": None,
        "rebaseable": None,
        "mergeable_state": "unknown",
        "merged_by": None,
        "comments": 0,
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": 3,
        "additions": 214,
        "deletions": 37,
        "changed_files": 9,
    }
    event: dict[str, Any] = {
        "action": action,
        "number": number,
        "pull_request": pr,
        "repository": repo,
        "organization": {
            "login": OWNER,
            "id": org["id"],
            "node_id": org["node_id"],
            "url": f"{API}/orgs/{OWNER}",
            "repos_url": f"{API}/orgs/{OWNER}/repos",
            "events_url": f"{API}/orgs/{OWNER}/events",
            "hooks_url": f"{API}/orgs/{OWNER}/hooks",
            "issues_url": f"{API}/orgs/{OWNER}/issues",
            "members_url": f"{API}/orgs/{OWNER}/members{{/member}}",
            "public_members_url": f"{API}/orgs/{OWNER}/public_members{{/member}}",
            "avatar_url": org["avatar_url"],
            "description": "",
        },
        "sender": author,
        "installation": {"id": INSTALLATION_ID, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u"},
    }
    if action == "synchronize":
        event["before"] = before
        event["after"] = head_sha
    return event


def pull_request_body(number: int, *, action: str = "synchronize", serial: int = 0) -> bytes:
    """The body as GitHub sends it: compact JSON, UTF-8; `serial` makes it one of its own."""
    return pull_request_body_start(number, action=action) + unique_ending(serial)


def pull_request_body_start(number: int, *, action: str = "synchronize") -> bytes:
    """The body up to its last member, `after`, which `unique_ending` closes.

    Every delivery GitHub sends has a body of its own (a push's `after`, a time), and our
    endpoint stores a body once: the same body under another delivery id is a replay, answered
    200 and not stored. So each request the bench sends ends in its own `after`; the rest of
    the body is shared, and its HMAC computed once.
    """
    event = pull_request_event(number, action=action)
    event.pop("after", None)
    return json.dumps(event, separators=(",", ":")).encode()[:-1]


def unique_ending(serial: int) -> bytes:
    """Always the same length: the Content-Length of a PR's requests does not change."""
    return f',"after":"{serial:040x}"}}'.encode()


if __name__ == "__main__":
    body = pull_request_body(1)
    print(f"{len(body)} bytes")
