"""What the fake GitHub reads: the App and its tokens, repositories, pull requests and their
diffs, commits, comparisons, file contents and collaborator permissions.

Where GitHub's behaviour is documented the fake follows the docs; where it is only observed
(error wording), it uses what GitHub has been seen to send. Choices worth knowing:

- The diff media type (`application/vnd.github.diff` or `.v3.diff`) answers 406 `too_large`
  above 300 files or 20,000 diff lines, or whenever `Pull.force_too_large` is set.
- `compare/{base}...{head}` is three-dot: the diff from the merge base to `head`. The fake
  looks for a diff registered for (base, head), then (merge base, head); without one it
  fails loudly (a test setup mistake, recorded in `FakeGitHub.errors`).
- Collaborator permission: `permission` is the legacy base role (maintain -> write,
  triage -> read) and `role_name` the role itself, as the docs say. A user with no role gets
  `none` on a private repository and `read` on a public one (GitHub answers 200 for any
  existing user); only logins in `missing_users` get 404.
"""

from __future__ import annotations

from typing import Any

from tests.fakes import github_json as js
from tests.fakes.github_diff import diff_line_count, parse_diff
from tests.fakes.github_http import Ctx, Fail, Reply, Route, not_found, paginate, route
from tests.fakes.github_objects import Pull, Repo, iso
from tests.fakes.github_state import GitHubState

ROUTES: list[Route] = []
MAX_DIFF_FILES = 300
MAX_DIFF_LINES = 20_000
MAX_LISTED_FILES = 3000
MAX_LISTED_COMMITS = 250
_LEVEL = {"none": 0, "read": 1, "write": 2, "admin": 3}
_LEGACY = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
}
_FLAGS = {
    "admin": ("admin", "maintain", "push", "triage", "pull"),
    "maintain": ("maintain", "push", "triage", "pull"),
    "write": ("push", "triage", "pull"),
    "triage": ("triage", "pull"),
    "read": ("pull",),
    "none": (),
}
READ_PR = ("pull_requests", "read")
READ_CONTENTS = ("contents", "read")


class SetupError(Exception):
    """The test did not give the fake what it needs to answer (a diff, say)."""


def level_allows(granted: str | None, wanted: str) -> bool:
    return _LEVEL.get(granted or "none", 0) >= _LEVEL[wanted]


def repo_of(ctx: Ctx) -> Repo:
    assert ctx.repo is not None  # every route with {owner}/{repo} has it resolved
    return ctx.repo


def pull_of(state: GitHubState, ctx: Ctx) -> Pull:
    repo = repo_of(ctx)
    try:
        return state.pulls[(repo.full_name.lower(), int(ctx.params["number"]))]
    except (KeyError, ValueError):
        raise not_found("/pulls/pulls#get-a-pull-request") from None


def diff_reply(text: str, doc: str, *, too_large: bool = False) -> Reply:
    """The diff as GitHub serves it, or its 406 when the diff is over GitHub's limits."""
    files = parse_diff(text)
    message = None
    if len(files) > MAX_DIFF_FILES or too_large:
        message = (
            f"Sorry, the diff exceeded the maximum number of files ({MAX_DIFF_FILES}). Consider "
            "using 'List pull requests files' API or locally cloning the repository instead."
        )
    elif diff_line_count(text) > MAX_DIFF_LINES:
        message = f"Sorry, the diff exceeded the maximum number of lines ({MAX_DIFF_LINES})"
    if message:
        errors = [{"resource": "PullRequest", "field": "diff", "code": "too_large"}]
        return Reply(406, js.error(message, doc, 406, errors=errors))
    return Reply(
        200,
        text=text,
        media_type="application/vnd.github.diff; charset=utf-8",
        headers={"x-github-media-type": "github.v3; param=diff"},
    )


# --- the App ------------------------------------------------------------------------------------


@route(ROUTES, "GET", "/app", "jwt")
def get_app(state: GitHubState, ctx: Ctx) -> Reply:
    return Reply(200, js.app(ctx.api, state))


@route(ROUTES, "GET", "/app/installations/{installation_id}", "jwt")
def get_installation(state: GitHubState, ctx: Ctx) -> Reply:
    install = state.installations.get(int(ctx.params["installation_id"]))
    if install is None:
        raise not_found("/apps/apps#get-an-installation-for-the-authenticated-app")
    return Reply(200, js.installation(ctx.api, state, install))


@route(ROUTES, "GET", "/app/installations", "jwt")
def list_installations(state: GitHubState, ctx: Ctx) -> Reply:
    found = sorted(state.installations.values(), key=lambda i: i.id)
    return paginate(ctx, [js.installation(ctx.api, state, i) for i in found])


@route(ROUTES, "GET", "/installation/repositories", "token", ("metadata", "read"))
def list_installation_repos(state: GitHubState, ctx: Ctx) -> Reply:
    assert ctx.token is not None
    install = state.installations[ctx.token.installation_id]
    names = ctx.token.repositories
    reachable = [
        r
        for r in sorted(state.repos.values(), key=lambda r: r.id)
        if state.installation_for(r) is install and (names is None or r.full_name in names)
    ]
    return paginate(
        ctx,
        [js.repo(ctx.api, r) for r in reachable],
        wrap="repositories",
        repository_selection=install.repository_selection,
    )


@route(ROUTES, "GET", "/repos/{owner}/{repo}/installation", "jwt")
def get_repo_installation(state: GitHubState, ctx: Ctx) -> Reply:
    install = state.installation_for(repo_of(ctx))
    if install is None:
        raise not_found("/apps/apps#get-a-repository-installation-for-the-authenticated-app")
    return Reply(200, js.installation(ctx.api, state, install))


@route(ROUTES, "POST", "/app/installations/{installation_id}/access_tokens", "jwt")
def create_token(state: GitHubState, ctx: Ctx) -> Reply:
    doc = "/apps/apps#create-an-installation-access-token-for-an-app"
    install = state.installations.get(int(ctx.params["installation_id"]))
    if install is None:
        raise not_found(doc)
    if install.suspended:
        raise Fail(Reply(403, js.error("This installation has been suspended", doc, 403)))
    body = ctx.json_body()
    wanted: dict[str, str] = body.get("permissions") or {}
    if any(not level_allows(install.permissions.get(k), v) for k, v in wanted.items()):
        message = "The permissions requested are not granted to this installation."
        raise Fail(Reply(422, js.error(message, doc, 422)))
    reachable = [r for r in state.repos.values() if state.installation_for(r) is install]
    names: list[str] | None = None
    if body.get("repositories") or body.get("repository_ids"):
        chosen = [r for r in reachable if r.name in (body.get("repositories") or [])]
        chosen += [r for r in reachable if r.id in (body.get("repository_ids") or [])]
        asked = len(body.get("repositories") or []) + len(body.get("repository_ids") or [])
        if len(chosen) != asked:
            message = (
                "There is at least one repository that does not exist or is not accessible "
                "to the parent installation."
            )
            raise Fail(Reply(422, js.error(message, doc, 422)))
        names = [r.full_name for r in chosen]
    # Metadata read comes with every token, asked for or not, as on GitHub.
    granted = wanted | {"metadata": "read"} if wanted else None
    token = state.issue_token(install, granted, names)
    answer: dict[str, Any] = {
        "token": token.token,
        "expires_at": iso(token.expires_at),
        "permissions": token.permissions,
        "repository_selection": "selected" if names else install.repository_selection,
    }
    if names:
        answer["repositories"] = [js.repo(ctx.api, state.repo(n)) for n in names]
    return Reply(201, answer)


@route(ROUTES, "DELETE", "/installation/token")
def revoke_own_token(state: GitHubState, ctx: Ctx) -> Reply:
    assert ctx.token is not None
    ctx.token.revoked = True
    return Reply(204)


# --- repositories and pull requests ---------------------------------------------------------


@route(ROUTES, "GET", "/repos/{owner}/{repo}", "token", ("metadata", "read"))
def get_repo(state: GitHubState, ctx: Ctx) -> Reply:
    full = {"has_discussions": False, "subscribers_count": 0, "network_count": 0}
    return Reply(200, js.repo(ctx.api, repo_of(ctx)) | full)


@route(ROUTES, "GET", "/repos/{owner}/{repo}/pulls/{number}", "token", READ_PR)
def get_pull(state: GitHubState, ctx: Ctx) -> Reply:
    pull = pull_of(state, ctx)
    if ctx.wants_diff():
        doc = "/pulls/pulls#list-pull-requests-files"
        return diff_reply(pull.diff, doc, too_large=pull.force_too_large)
    return Reply(200, js.pull(ctx.api, pull))


@route(ROUTES, "GET", "/repos/{owner}/{repo}/pulls/{number}/files", "token", READ_PR)
def list_pull_files(state: GitHubState, ctx: Ctx) -> Reply:
    pull = pull_of(state, ctx)
    entries = [
        js.diff_entry(
            ctx.api, pull.repo, pull.head_sha, f, omit_patch=f.path in pull.omitted_patches
        )
        for f in pull.files()[:MAX_LISTED_FILES]
    ]  # fmt: skip
    return paginate(ctx, entries)


@route(ROUTES, "GET", "/repos/{owner}/{repo}/pulls/{number}/commits", "token", READ_PR)
def list_pull_commits(state: GitHubState, ctx: Ctx) -> Reply:
    pull = pull_of(state, ctx)
    repo = pull.repo
    commits = [js.commit(ctx.api, state, repo, repo.commits[sha]) for sha in pull.commit_shas]
    return paginate(ctx, commits[:MAX_LISTED_COMMITS])


@route(ROUTES, "GET", "/repos/{owner}/{repo}/commits/{sha}/pulls", "token", READ_CONTENTS, READ_PR)
def list_commit_pulls(state: GitHubState, ctx: Ctx) -> Reply:
    repo = repo_of(ctx)
    sha = state.resolve(repo, ctx.params["sha"])
    if sha is None:
        message = f"No commit found for SHA: {ctx.params['sha']}"
        doc = "/commits/commits#list-pull-requests-associated-with-a-commit"
        raise Fail(Reply(422, js.error(message, doc, 422)))
    found = [
        js.pull(ctx.api, p, simple=True) for p in state.pulls.values()
        if p.repo is repo and sha in p.commit_shas
    ]  # fmt: skip
    return paginate(ctx, found)


@route(ROUTES, "GET", "/repos/{owner}/{repo}/compare/{basehead+}", "token", READ_CONTENTS)
def compare(state: GitHubState, ctx: Ctx) -> Reply:
    doc = "/commits/commits#compare-two-commits"
    repo = repo_of(ctx)
    base_ref, sep, head_ref = ctx.params["basehead"].partition("...")
    if not sep:
        raise not_found(doc)
    base, head = state.resolve(repo, base_ref), state.resolve(repo, head_ref)
    if base is None or head is None:
        raise not_found(doc)
    head_line, base_line = repo.ancestors(head), repo.ancestors(base)
    ahead = [sha for sha in head_line if sha not in base_line]
    behind = [sha for sha in base_line if sha not in head_line]
    merge_base = next((sha for sha in head_line if sha in base_line), base)
    status = (
        "identical" if not ahead and not behind
        else "ahead" if not behind
        else "behind" if not ahead
        else "diverged"
    )  # fmt: skip
    if merge_base == head:
        diff = ""
    elif (base, head) in repo.diffs:
        diff = repo.diffs[(base, head)]
    elif (merge_base, head) in repo.diffs:
        diff = repo.diffs[(merge_base, head)]
    else:
        raise SetupError(
            f"no diff for compare {base[:7]}...{head[:7]} (merge base {merge_base[:7]}): "
            "register one with set_diff() or push(delta=...)"
        )
    if ctx.wants_diff():
        return diff_reply(diff, doc)
    url = f"{ctx.api}/repos/{repo.full_name}/compare/{ctx.params['basehead']}"
    html = f"{js.WEB}/{repo.full_name}/compare/{ctx.params['basehead']}"
    commits = [repo.commits[sha] for sha in reversed(ahead)][:MAX_LISTED_COMMITS]
    files = parse_diff(diff)
    return Reply(
        200,
        {
            "url": url, "html_url": html, "permalink_url": html, "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "base_commit": js.commit(ctx.api, state, repo, repo.commits[base]),
            "merge_base_commit": js.commit(ctx.api, state, repo, repo.commits[merge_base]),
            "status": status, "ahead_by": len(ahead), "behind_by": len(behind),
            "total_commits": len(ahead),
            "commits": [js.commit(ctx.api, state, repo, c) for c in commits],
            "files": [js.diff_entry(ctx.api, repo, head, f, omit_patch=False) for f in files],
        },
    )  # fmt: skip


@route(ROUTES, "GET", "/repos/{owner}/{repo}/contents/{path+}", "token", READ_CONTENTS)
def get_contents(state: GitHubState, ctx: Ctx) -> Reply:
    doc = "/repos/contents#get-repository-content"
    repo = repo_of(ctx)
    ref = ctx.query.get("ref") or repo.default_branch
    files = state.files_at(repo, ref)
    if files is None:
        raise Fail(Reply(404, js.error(f"No commit found for the ref {ref}", doc, 404)))
    path = ctx.params["path"].strip("/")
    if path in files:
        return Reply(200, js.content_file(ctx.api, repo, ref, path, files[path]))
    children: dict[str, bool] = {}
    for name in files:
        if name.startswith(path + "/"):
            rest = name[len(path) + 1 :]
            child, _, deeper = rest.partition("/")
            children[f"{path}/{child}"] = bool(deeper) or children.get(f"{path}/{child}", False)
    if not children:
        raise not_found(doc)
    return Reply(
        200,
        [js.content_dir_entry(ctx.api, repo, ref, p, d) for p, d in sorted(children.items())],
    )


@route(
    ROUTES, "GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", "token",
    ("metadata", "read"),
)  # fmt: skip
def get_permission(state: GitHubState, ctx: Ctx) -> Reply:
    repo = repo_of(ctx)
    login = ctx.params["username"]
    if login in state.missing_users:
        raise not_found("/collaborators/collaborators#get-repository-permissions-for-a-user")
    role = repo.permissions.get(login)
    if role is None:
        owner_is_user = repo.owner.type == "User" and repo.owner.login.lower() == login.lower()
        role = "admin" if owner_is_user else "none" if repo.private else "read"
    flags = _FLAGS[role]
    collaborator = js.user(ctx.api, state.user(login)) | {
        "role_name": role,
        "permissions": {k: k in flags for k in ("admin", "maintain", "push", "triage", "pull")},
    }
    return Reply(
        200,
        {"permission": _LEGACY.get(role, "none"), "role_name": role, "user": collaborator},
    )
