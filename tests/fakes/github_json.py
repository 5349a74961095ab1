"""GitHub's JSON for the fake's objects: every field githubkit's models require, named as GitHub
names them, with URLs under the fake's own base URL (`api`) so a client can follow them."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from tests.fakes.github_diff import FileDiff
from tests.fakes.github_objects import (
    CheckRun,
    Commit,
    Installation,
    IssueComment,
    Pull,
    Reaction,
    Repo,
    Review,
    ReviewComment,
    User,
    iso,
)
from tests.fakes.github_state import GitHubState

WEB = "https://github.com"
DOCS = "https://docs.github.com/rest"


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0:{kind}{number}".encode()).decode().rstrip("=")


def error(message: str, doc: str = "", status: int = 0, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, **extra, "documentation_url": f"{DOCS}{doc}"}
    if status:
        body["status"] = str(status)
    return body


def user(api: str, who: User) -> dict[str, Any]:
    url = f"{api}/users/{who.login}"
    return {
        "login": who.login, "id": who.id, "node_id": node_id("U", who.id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{who.id}?v=4", "gravatar_id": "",
        "url": url, "html_url": f"{WEB}/{who.login}", "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}", "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs", "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}", "received_events_url": f"{url}/received_events",
        "type": who.type, "user_view_type": "public", "site_admin": False,
    }  # fmt: skip


def app(api: str, state: GitHubState) -> dict[str, Any]:
    return {
        "id": state.app_id, "slug": state.app_slug, "node_id": node_id("A", state.app_id),
        "client_id": f"Iv23li{state.app_id}", "owner": user(api, state.app_owner),
        "name": "Backend Review",
        "description": "Reviews pull requests as a senior backend engineer would.",
        "external_url": "https://backend-review.example",
        "html_url": f"{WEB}/apps/{state.app_slug}",
        "created_at": "2024-01-02T00:00:00Z", "updated_at": "2024-01-02T00:00:00Z",
        "permissions": dict(state.app_permissions),
        "events": list(state.app_events),
        "installations_count": len(state.installations),
    }  # fmt: skip


def installation(api: str, state: GitHubState, install: Installation) -> dict[str, Any]:
    return {
        "id": install.id, "account": user(api, install.account),
        "repository_selection": install.repository_selection,
        "access_tokens_url": f"{api}/app/installations/{install.id}/access_tokens",
        "repositories_url": f"{api}/installation/repositories",
        "html_url": f"{WEB}/settings/installations/{install.id}",
        "app_id": state.app_id, "app_slug": state.app_slug, "client_id": f"Iv23li{state.app_id}",
        "target_id": install.account.id, "target_type": install.account.type,
        "permissions": dict(install.permissions), "events": list(install.events),
        "created_at": "2024-01-02T00:00:00Z", "updated_at": "2024-01-02T00:00:00Z",
        "single_file_name": None, "has_multiple_single_files": False, "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": "2024-01-03T00:00:00Z" if install.suspended else None,
    }  # fmt: skip


def repo(api: str, r: Repo) -> dict[str, Any]:
    url = f"{api}/repos/{r.full_name}"
    owner = user(api, r.owner)
    templated = {
        "archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}",
        "blobs_url": "/git/blobs{/sha}", "branches_url": "/branches{/branch}",
        "collaborators_url": "/collaborators{/collaborator}", "comments_url": "/comments{/number}",
        "commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}",
        "contents_url": "/contents/{+path}", "contributors_url": "/contributors",
        "deployments_url": "/deployments", "downloads_url": "/downloads", "events_url": "/events",
        "forks_url": "/forks", "git_commits_url": "/git/commits{/sha}",
        "git_refs_url": "/git/refs{/sha}",
        "git_tags_url": "/git/tags{/sha}", "issue_comment_url": "/issues/comments{/number}",
        "issue_events_url": "/issues/events{/number}", "issues_url": "/issues{/number}",
        "keys_url": "/keys{/key_id}", "labels_url": "/labels{/name}", "languages_url": "/languages",
        "merges_url": "/merges", "milestones_url": "/milestones{/number}",
        "notifications_url": "/notifications{?since,all,participating}",
        "pulls_url": "/pulls{/number}",
        "releases_url": "/releases{/id}", "stargazers_url": "/stargazers",
        "statuses_url": "/statuses/{sha}", "subscribers_url": "/subscribers",
        "subscription_url": "/subscription", "tags_url": "/tags", "teams_url": "/teams",
        "trees_url": "/git/trees{/sha}", "hooks_url": "/hooks",
    }  # fmt: skip
    stamp = iso(r.created_at)
    return {
        "id": r.id, "node_id": node_id("R", r.id), "name": r.name, "full_name": r.full_name,
        "private": r.private, "visibility": "private" if r.private else "public", "owner": owner,
        "html_url": f"{WEB}/{r.full_name}", "description": None, "fork": False, "url": url,
        **{key: url + suffix for key, suffix in templated.items()},
        "git_url": f"git://github.com/{r.full_name}.git",
        "ssh_url": f"git@github.com:{r.full_name}.git", "clone_url": f"{WEB}/{r.full_name}.git",
        "svn_url": f"{WEB}/{r.full_name}", "mirror_url": None,
        "homepage": None, "language": "Python", "license": None, "forks": 0, "forks_count": 0,
        "stargazers_count": 0, "watchers_count": 0, "watchers": 0, "size": 1024,
        "default_branch": r.default_branch, "open_issues_count": 0, "open_issues": 0,
        "has_issues": True, "has_projects": False, "has_wiki": False, "has_pages": False,
        "has_downloads": True, "archived": False, "disabled": False,
        "pushed_at": stamp, "created_at": stamp, "updated_at": stamp,
    }  # fmt: skip


def _links(pairs: dict[str, str]) -> dict[str, dict[str, str]]:
    return {key: {"href": href} for key, href in pairs.items()}


def _branch(api: str, r: Repo, ref: str, sha: str) -> dict[str, Any]:
    return {
        "label": f"{r.owner.login}:{ref}", "ref": ref, "sha": sha,
        "user": user(api, r.owner), "repo": repo(api, r),
    }  # fmt: skip


def pull(api: str, p: Pull, *, simple: bool = False) -> dict[str, Any]:
    r = p.repo
    url = f"{api}/repos/{r.full_name}/pulls/{p.number}"
    issue = f"{api}/repos/{r.full_name}/issues/{p.number}"
    html = f"{WEB}/{r.full_name}/pull/{p.number}"
    stamp = iso(p.created_at)
    body: dict[str, Any] = {
        "url": url, "id": p.id, "node_id": node_id("PR", p.id), "html_url": html,
        "diff_url": f"{html}.diff", "patch_url": f"{html}.patch", "issue_url": issue,
        "commits_url": f"{url}/commits", "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{api}/repos/{r.full_name}/pulls/comments{{/number}}",
        "comments_url": f"{issue}/comments",
        "statuses_url": f"{api}/repos/{r.full_name}/statuses/{p.head_sha}",
        "number": p.number, "state": p.state, "locked": False, "title": p.title,
        "user": user(api, p.author), "body": p.body, "labels": [], "milestone": None,
        "active_lock_reason": None, "created_at": stamp, "updated_at": stamp,
        "closed_at": None if p.state == "open" else stamp,
        "merged_at": stamp if p.merged else None, "merge_commit_sha": None,
        "assignee": None, "assignees": [], "requested_reviewers": [], "requested_teams": [],
        "head": _branch(api, r, p.head_ref, p.head_sha),
        "base": _branch(api, r, p.base_ref, p.base_sha),
        "_links": _links({
            "self": url, "html": html, "issue": issue, "comments": f"{issue}/comments",
            "review_comments": f"{url}/comments",
            "review_comment": f"{api}/repos/{r.full_name}/pulls/comments{{/number}}",
            "commits": f"{url}/commits",
            "statuses": f"{api}/repos/{r.full_name}/statuses/{p.head_sha}",
        }),
        "author_association": "CONTRIBUTOR", "auto_merge": None, "draft": p.draft,
    }  # fmt: skip
    if simple:
        return body
    files = p.files()
    return body | {
        "merged": p.merged, "mergeable": None, "rebaseable": None, "mergeable_state": "unknown",
        "merged_by": None, "comments": 0, "review_comments": 0, "maintainer_can_modify": False,
        "commits": len(p.commit_shas), "additions": sum(f.additions for f in files),
        "deletions": sum(f.deletions for f in files), "changed_files": len(files),
    }  # fmt: skip


def pull_minimal(api: str, p: Pull) -> dict[str, Any]:
    r = p.repo
    small = {"id": r.id, "url": f"{api}/repos/{r.full_name}", "name": r.name}
    return {
        "id": p.id,
        "number": p.number,
        "url": f"{api}/repos/{r.full_name}/pulls/{p.number}",
        "head": {"ref": p.head_ref, "sha": p.head_sha, "repo": small},
        "base": {"ref": p.base_ref, "sha": p.base_sha, "repo": small},
    }


def commit(api: str, state: GitHubState, r: Repo, c: Commit) -> dict[str, Any]:
    url = f"{api}/repos/{r.full_name}/commits/{c.sha}"
    person = {
        "name": c.author,
        "email": f"{c.author}@users.noreply.github.com",
        "date": iso(c.date),
    }
    tree = hashlib.sha1(f"tree:{c.sha}".encode(), usedforsecurity=False).hexdigest()
    author = user(api, state.user(c.author))
    return {
        "url": url, "sha": c.sha, "node_id": node_id("C", int(c.sha[:8], 16)),
        "html_url": f"{WEB}/{r.full_name}/commit/{c.sha}", "comments_url": f"{url}/comments",
        "commit": {
            "url": f"{api}/repos/{r.full_name}/git/commits/{c.sha}", "author": person,
            "committer": person, "message": c.message, "comment_count": 0,
            "tree": {"sha": tree, "url": f"{api}/repos/{r.full_name}/git/trees/{tree}"},
            "verification": {"verified": False, "reason": "unsigned", "signature": None,
                             "payload": None, "verified_at": None},
        },
        "author": author, "committer": author,
        "parents": [
            {"sha": sha, "url": f"{api}/repos/{r.full_name}/commits/{sha}",
             "html_url": f"{WEB}/{r.full_name}/commit/{sha}"}
            for sha in c.parents
        ],
    }  # fmt: skip


def diff_entry(api: str, r: Repo, head: str, f: FileDiff, *, omit_patch: bool) -> dict[str, Any]:
    blob = hashlib.sha1(f"{head}:{f.path}".encode(), usedforsecurity=False).hexdigest()
    entry: dict[str, Any] = {
        "sha": blob, "filename": f.path, "status": f.status, "additions": f.additions,
        "deletions": f.deletions, "changes": f.additions + f.deletions,
        "blob_url": f"{WEB}/{r.full_name}/blob/{head}/{f.path}",
        "raw_url": f"{WEB}/{r.full_name}/raw/{head}/{f.path}",
        "contents_url": f"{api}/repos/{r.full_name}/contents/{f.path}?ref={head}",
    }  # fmt: skip
    patch = f.patch()
    if patch is not None and not omit_patch:
        entry["patch"] = patch
    if f.old_path is not None:
        entry["previous_filename"] = f.old_path
    return entry


def content_file(api: str, r: Repo, ref: str, path: str, data: bytes) -> dict[str, Any]:
    encoded = base64.b64encode(data).decode()
    # GitHub wraps the base64 at 60 characters, as `base64` (MIME style) does.
    wrapped = "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))
    sha = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
    url = f"{api}/repos/{r.full_name}/contents/{path}?ref={ref}"
    html = f"{WEB}/{r.full_name}/blob/{ref}/{path}"
    git = f"{api}/repos/{r.full_name}/git/blobs/{sha}"
    return {
        "type": "file", "encoding": "base64", "size": len(data), "name": path.rsplit("/", 1)[-1],
        "path": path, "content": wrapped, "sha": sha, "url": url, "git_url": git, "html_url": html,
        "download_url": f"https://raw.githubusercontent.com/{r.full_name}/{ref}/{path}",
        "_links": {"self": url, "git": git, "html": html},
    }  # fmt: skip


def content_dir_entry(api: str, r: Repo, ref: str, path: str, is_dir: bool) -> dict[str, Any]:
    url = f"{api}/repos/{r.full_name}/contents/{path}?ref={ref}"
    html = f"{WEB}/{r.full_name}/{'tree' if is_dir else 'blob'}/{ref}/{path}"
    sha = hashlib.sha1(f"{ref}:{path}".encode(), usedforsecurity=False).hexdigest()
    git = f"{api}/repos/{r.full_name}/git/{'trees' if is_dir else 'blobs'}/{sha}"
    return {
        "type": "dir" if is_dir else "file", "size": 0, "name": path.rsplit("/", 1)[-1],
        "path": path, "sha": sha, "url": url, "git_url": git, "html_url": html,
        "download_url": None if is_dir else f"https://raw.githubusercontent.com/{r.full_name}/{ref}/{path}",
        "_links": {"self": url, "git": git, "html": html},
    }  # fmt: skip


def review(api: str, rv: Review) -> dict[str, Any]:
    pr_url = f"{api}/repos/{rv.repo}/pulls/{rv.pull_number}"
    html = f"{WEB}/{rv.repo}/pull/{rv.pull_number}#pullrequestreview-{rv.id}"
    body: dict[str, Any] = {
        "id": rv.id, "node_id": node_id("PRR", rv.id), "user": user(api, rv.user), "body": rv.body,
        "state": rv.state, "html_url": html, "pull_request_url": pr_url,
        "_links": _links({"html": html, "pull_request": pr_url}),
        "commit_id": rv.commit_id, "author_association": "NONE",
    }  # fmt: skip
    if rv.submitted_at is not None:
        body["submitted_at"] = iso(rv.submitted_at)
    return body


def review_comment(api: str, c: ReviewComment) -> dict[str, Any]:
    url = f"{api}/repos/{c.repo}/pulls/comments/{c.id}"
    pr_url = f"{api}/repos/{c.repo}/pulls/{c.pull_number}"
    html = f"{WEB}/{c.repo}/pull/{c.pull_number}#discussion_r{c.id}"
    body: dict[str, Any] = {
        "url": url, "pull_request_review_id": c.review_id, "id": c.id,
        "node_id": node_id("PRRC", c.id), "diff_hunk": c.diff_hunk, "path": c.path,
        "position": c.position, "original_position": c.position, "commit_id": c.commit_id,
        "original_commit_id": c.commit_id, "user": user(api, c.user), "body": c.body,
        "created_at": iso(c.created_at), "updated_at": iso(c.updated_at), "html_url": html,
        "pull_request_url": pr_url, "author_association": "NONE",
        "_links": _links({"self": url, "html": html, "pull_request": pr_url}),
        "start_line": c.start_line, "original_start_line": c.start_line,
        "start_side": c.start_side, "line": c.line, "original_line": c.line, "side": c.side,
        "subject_type": c.subject_type,
    }  # fmt: skip
    if c.in_reply_to_id is not None:
        body["in_reply_to_id"] = c.in_reply_to_id
    return body


def issue_comment(api: str, c: IssueComment) -> dict[str, Any]:
    issue = f"{api}/repos/{c.repo}/issues/{c.issue_number}"
    return {
        "id": c.id, "node_id": node_id("IC", c.id),
        "url": f"{api}/repos/{c.repo}/issues/comments/{c.id}",
        "html_url": f"{WEB}/{c.repo}/pull/{c.issue_number}#issuecomment-{c.id}", "body": c.body,
        "user": user(api, c.user), "created_at": iso(c.created_at), "updated_at": iso(c.updated_at),
        "issue_url": issue, "author_association": "NONE" if c.user.type == "Bot" else "CONTRIBUTOR",
    }  # fmt: skip


def reaction(api: str, rc: Reaction) -> dict[str, Any]:
    return {
        "id": rc.id, "node_id": node_id("REA", rc.id), "user": user(api, rc.user),
        "content": rc.content, "created_at": iso(rc.created_at),
    }  # fmt: skip


def check_run(api: str, state: GitHubState, run: CheckRun) -> dict[str, Any]:
    url = f"{api}/repos/{run.repo}/check-runs/{run.id}"
    pulls = [
        pull_minimal(api, p) for p in state.pulls.values()
        if p.repo.full_name == run.repo and p.head_sha == run.head_sha and p.state == "open"
    ]  # fmt: skip
    return {
        "id": run.id, "head_sha": run.head_sha, "node_id": node_id("CR", run.id),
        "external_id": run.external_id, "url": url,
        "html_url": f"{WEB}/{run.repo}/runs/{run.id}", "details_url": run.details_url,
        "status": run.status, "conclusion": run.conclusion, "started_at": iso(run.started_at),
        "completed_at": iso(run.completed_at) if run.completed_at else None,
        "output": {
            "title": run.output.get("title"), "summary": run.output.get("summary"),
            "text": run.output.get("text"), "annotations_count": len(run.annotations),
            "annotations_url": f"{url}/annotations",
        },
        "name": run.name, "check_suite": {"id": run.id + 7000000000},
        "app": app(api, state), "pull_requests": pulls,
    }  # fmt: skip


def annotation(r: str, head_sha: str, a: dict[str, Any]) -> dict[str, Any]:
    keys = ("path", "start_line", "end_line", "start_column", "end_column", "annotation_level",
            "title", "message", "raw_details")  # fmt: skip
    return {key: a.get(key) for key in keys} | {
        "blob_href": f"{WEB}/{r}/blob/{head_sha}/{a.get('path')}"
    }
