"""The fake GitHub's review threads, over GraphQL: `pullRequest { reviewThreads }` and the
`resolveReviewThread` mutation (REST has neither).

A thread is a review comment that replies to nothing (its root) and every reply to it, oldest
first; its node id is `node_id("PRRT", root.id)`. GitHub's GraphQL names a bot by its slug
without `[bot]` (`backend-review`, `__typename: Bot`), a person by their login (`User`).

Checked as GitHub checks them: connections take `first`/`last` at most 100, variables must be
declared, a mutation's `threadId` is an `ID!`. The query needs `pull_requests: read`, the
mutation `pull_requests: write` (else a `FORBIDDEN` error for that field, "Resource not
accessible by integration"). A thread id that names nothing, or a thread in a repository the
token does not cover, is `NOT_FOUND` ("Could not resolve to a node with the global id of
'...'"), with `null` for that alias and the other aliases answered: GitHub answers each
mutation field on its own.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

from tests.fakes import github_json as js
from tests.fakes.github_http import Ctx, Reply
from tests.fakes.github_objects import ReviewComment, User
from tests.fakes.github_routes import level_allows

if TYPE_CHECKING:
    from tests.fakes.github_server import FakeGitHub
    from tests.fakes.github_state import GitHubState

FORBIDDEN = "Resource not accessible by integration"
_FIRST = re.compile(r"\b(reviewThreads|comments)\s*\(\s*(first|last)\s*:\s*(\d+)")
_THREADS_ARGS = re.compile(r"reviewThreads\s*\(\s*first\s*:\s*\d+\s*,\s*after\s*:\s*\$(\w+)\s*\)")
_PULL = re.compile(r"pullRequest\s*\(\s*number\s*:\s*\$(\w+)\s*\)")
_REPOSITORY = re.compile(r"repository\s*\(\s*owner\s*:\s*\$(\w+)\s*,\s*name\s*:\s*\$(\w+)\s*\)")
_DECLARED = re.compile(r"\$(\w+)\s*:\s*(String|Int|ID)(!?)")
_RESOLVE = re.compile(
    r"(\w+)\s*:\s*resolveReviewThread\s*\(\s*input\s*:\s*\{\s*threadId\s*:\s*\$(\w+)\s*\}\s*\)"
)
THREAD_FIELDS = ("id", "isResolved", "pageInfo", "hasNextPage", "endCursor", "databaseId")


def _invalid(message: str) -> Reply:
    return Reply(200, {"errors": [{"message": message, "locations": [{"line": 1, "column": 1}]}]})


def thread_id(root: ReviewComment) -> str:
    return js.node_id("PRRT", root.id)


def threads_of(state: GitHubState, repo: str, number: int) -> list[list[ReviewComment]]:
    """Each thread of the pull request, its comments oldest first, threads by their root."""
    comments = sorted(
        (c for r in state.reviews if r.repo == repo and r.pull_number == number
         for c in r.comments if r.state != "PENDING"),
        key=lambda c: c.id,
    )  # fmt: skip
    roots = {c.id: [c] for c in comments if c.in_reply_to_id is None}
    for c in comments:
        if c.in_reply_to_id is not None and c.in_reply_to_id in roots:
            roots[c.in_reply_to_id].append(c)
    return list(roots.values())


def _author(state: GitHubState, user: User) -> dict[str, Any]:
    if user.type == "Bot":
        return {"__typename": "Bot", "login": user.login.removesuffix("[bot]")}
    return {"__typename": user.type if user.type != "Organization" else "User", "login": user.login}


def _declared(query: str) -> dict[str, tuple[str, bool]]:
    return {name: (kind, bang == "!") for name, kind, bang in _DECLARED.findall(query)}


def answer_threads(server: FakeGitHub, ctx: Ctx, query: str, variables: dict[str, Any]) -> Reply:
    for connection, _, count in _FIRST.findall(query):
        if int(count) > 100:
            return _invalid(
                f"Requesting {count} records on the `{connection}` connection exceeds the "
                "`first` limit of 100 records."
            )
    declared = _declared(query)
    where, pull_at, after_at = (
        _REPOSITORY.search(query), _PULL.search(query), _THREADS_ARGS.search(query)
    )  # fmt: skip
    if where is None or pull_at is None or after_at is None:
        return _invalid("The fake GitHub answers reviewThreads(first:, after:) of a pullRequest")
    used = [where.group(1), where.group(2), pull_at.group(1), after_at.group(1)]
    for name in used:
        if name not in declared:
            return _invalid(f"Variable ${name} is used by anonymous query but not declared")
    owner, name = variables.get(where.group(1)), variables.get(where.group(2))
    number, after = variables.get(pull_at.group(1)), variables.get(after_at.group(1))
    if not isinstance(number, int) or (after is not None and not isinstance(after, str)):
        return _invalid(f"Variable ${pull_at.group(1)} of type Int! was provided invalid value")
    full = f"{owner}/{name}".lower()
    repo = server.repos.get(full)
    if repo is None or (ctx.token is not None and not server._covers(ctx.token, full)):
        message = f"Could not resolve to a Repository with the name '{owner}/{name}'."
        error = {"type": "NOT_FOUND", "path": ["repository"], "message": message}
        return Reply(200, {"data": {"repository": None}, "errors": [error]})
    if ctx.token is not None and not level_allows(
        ctx.token.permissions.get("pull_requests"), "read"
    ):
        error = {"type": "FORBIDDEN", "path": ["repository", "pullRequest"], "message": FORBIDDEN}
        return Reply(200, {"data": {"repository": {"pullRequest": None}}, "errors": [error]})
    if (repo.full_name.lower(), number) not in server.pulls:
        message = f"Could not resolve to a PullRequest with the number of {number}."
        error = {"type": "NOT_FOUND", "path": ["repository", "pullRequest"], "message": message}
        return Reply(200, {"data": {"repository": {"pullRequest": None}}, "errors": [error]})
    per_page = int(next(c for k, _, c in _FIRST.findall(query) if k == "reviewThreads"))
    per_thread = int(
        next((c for k, w, c in _FIRST.findall(query) if k == "comments" and w == "first"), 0)
    )
    start = int(base64.b64decode(after).decode().split(":")[1]) if after else 0
    threads = threads_of(server, repo.full_name, number)
    page = threads[start : start + per_page]
    nodes = []
    for thread in page:
        root = thread[0]
        node: dict[str, Any] = {
            "id": thread_id(root),
            "isResolved": root.id in server.resolved_threads,
        }
        node["comments"] = {
            "totalCount": len(thread),
            "nodes": [
                {"databaseId": c.id, "author": _author(server, c.user)} for c in thread[:per_thread]
            ],
        }
        last = thread[-1]
        node["last"] = {"nodes": [{"body": last.body, "author": _author(server, last.user)}]}
        nodes.append(node)
    end = start + len(page)
    cursor = base64.b64encode(f"cursor:{end}".encode()).decode()
    info = {"hasNextPage": end < len(threads), "endCursor": cursor if page else None}
    connection = {"pageInfo": info, "nodes": nodes}
    body = {"data": {"repository": {"pullRequest": {"reviewThreads": connection}}}}
    return Reply(200, body, {"x-ratelimit-resource": "graphql"})


def answer_mutation(server: FakeGitHub, ctx: Ctx, query: str, variables: dict[str, Any]) -> Reply:
    fields = _RESOLVE.findall(query)
    if not fields:
        return _invalid("The fake GitHub answers only resolveReviewThread mutations")
    declared = _declared(query)
    for _, var in fields:
        if var not in declared:
            return _invalid(f"Variable ${var} is used by anonymous mutation but not declared")
        if declared[var] != ("ID", True) or not isinstance(variables.get(var), str):
            return _invalid(f"Variable ${var} of type ID! was provided invalid value")
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for alias, var in fields:
        wanted = variables[var]
        found = _find_thread(server, ctx, wanted)
        if found is None:
            message = f"Could not resolve to a node with the global id of '{wanted}'"
            errors.append({"type": "NOT_FOUND", "path": [alias], "message": message,
                           "locations": [{"line": 1, "column": 1}]})  # fmt: skip
            data[alias] = None
            continue
        if ctx.token is not None and not level_allows(
            ctx.token.permissions.get("pull_requests"), "write"
        ):
            errors.append({"type": "FORBIDDEN", "path": [alias], "message": FORBIDDEN,
                           "locations": [{"line": 1, "column": 1}]})  # fmt: skip
            data[alias] = None
            continue
        server.resolved_threads[found.id] = server.bot.login
        data[alias] = {"thread": {"id": wanted, "isResolved": True}}
    body: dict[str, Any] = {"data": data}
    if errors:
        body["errors"] = errors
    return Reply(200, body, {"x-ratelimit-resource": "graphql"})


def _find_thread(server: FakeGitHub, ctx: Ctx, wanted: str) -> ReviewComment | None:
    for review in server.reviews:
        for comment in review.comments:
            if comment.in_reply_to_id is None and thread_id(comment) == wanted:
                full = comment.repo.lower()
                if ctx.token is not None and not server._covers(ctx.token, full):
                    return None  # GitHub hides what the token cannot see
                return comment
    return None
