"""The fake GitHub's GraphQL endpoint: `repository { object(expression: "REV:path") }` blobs,
and `pullRequest(number: $n) { commits(first: N) { totalCount nodes { commit { message } } } }`;
review threads and their `resolveReviewThread` mutation are answered by `github_threads`.

Only the shape the adapter asks (`app.github.blobs`) is understood, but it is checked as GitHub
checks it: variables must be declared and given, `object` takes `expression`, a Blob has the
fields GitHub's schema names (`byteSize isBinary isTruncated text oid`); anything else gets
GitHub's validation answer (HTTP 200, an `errors` array, no `data`). A missing repository (or
one the token does not cover) is `NOT_FOUND` with `data.repository: null`; a path with no blob
at that commit is `null`; a binary blob has `text: null`; text is cut at 512,000 bytes with
`isTruncated`, as GitHub does.

Error answers a test arranges with the server's faults (`fail_next("POST", "/graphql", ...)`),
or with the helpers here: `graphql_errors_next` (200 with an `errors` array) and
`graphql_rate_limit_next` (200, type `RATE_LIMITED`, `x-ratelimit-remaining: 0`).
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from tests.fakes import github_threads
from tests.fakes.github_http import Ctx, Reply, Route, route
from tests.fakes.github_json import error as js_error
from tests.fakes.github_routes import level_allows

if TYPE_CHECKING:
    from tests.fakes.github_server import FakeGitHub, Fault
    from tests.fakes.github_state import GitHubState

ROUTES: list[Route] = []
TEXT_LIMIT = 512_000
BLOB_FIELDS = frozenset({"byteSize", "isBinary", "isTruncated", "text", "oid"})
READ_CONTENTS = ("contents", "read")

_DECLARED = re.compile(r"\$(\w+)\s*:\s*(String|Int)!")
_REPOSITORY = re.compile(r"repository\s*\(\s*owner\s*:\s*\$(\w+)\s*,\s*name\s*:\s*\$(\w+)\s*\)")
_PULL = re.compile(
    r"(\w+)\s*:\s*pullRequest\s*\(\s*number\s*:\s*\$(\w+)\s*\)\s*\{\s*commits\s*\(\s*first\s*:"
    r"\s*(\d+)\s*\)\s*\{\s*totalCount\s+nodes\s*\{\s*commit\s*\{\s*message\s*\}\s*\}\s*\}\s*\}"
)
_OBJECT = re.compile(r"(\w+)\s*:\s*object\s*\(\s*(\w+)\s*:\s*\$(\w+)\s*\)")
_FRAGMENT = re.compile(r"fragment\s+\w+\s+on\s+Blob\s*\{([^{}]*)\}")
_INLINE = re.compile(r"\.\.\.\s*on\s+Blob\s*\{([^{}]*)\}")


def _invalid(message: str) -> Reply:
    return Reply(200, {"errors": [{"message": message, "locations": [{"line": 1, "column": 1}]}]})


@route(ROUTES, "POST", "/graphql", "token", READ_CONTENTS, ("pull_requests", "read"))
def graphql(state: GitHubState, ctx: Ctx) -> Reply:
    body = ctx.json_body()
    query, variables = body.get("query"), body.get("variables") or {}
    if not isinstance(query, str) or not query.strip():
        return _invalid("A query attribute must be specified and must be a string.")
    if not isinstance(variables, dict):
        return _invalid("Variables must be an object.")
    server: FakeGitHub = state  # type: ignore[assignment]
    if query.lstrip().startswith("mutation"):
        return github_threads.answer_mutation(server, ctx, query, variables)
    if "reviewThreads" in query:
        return github_threads.answer_threads(server, ctx, query, variables)
    if ctx.token is not None and not level_allows(ctx.token.permissions.get("contents"), "read"):
        return Reply(403, js_error("Resource not accessible by integration", "", 403))
    types = dict(_DECLARED.findall(query))
    declared = set(types)
    where = _REPOSITORY.search(query)
    if where is None:
        return _invalid("The fake GitHub only answers repository { object(...) } queries")
    used = {where.group(1), where.group(2)}
    objects = _OBJECT.findall(query)
    pulls = _PULL.findall(query)
    used |= {var for _, _, var in objects} | {var for _, var, _ in pulls}
    undeclared = sorted(used - declared)
    if undeclared:
        return _invalid(f"Variable ${undeclared[0]} is used by anonymous query but not declared")
    python = {"String": str, "Int": int}
    bad = sorted(v for v, t in types.items() if not isinstance(variables.get(v), python[t]))
    if bad:
        return _invalid(f"Variable ${bad[0]} of type {types[bad[0]]}! was provided invalid value")
    for _, _, first in pulls:
        if int(first) > 100:
            return _invalid(
                f"Requesting {first} records on the `commits` connection exceeds the `first` "
                "limit of 100 records."
            )
    arguments = sorted({argument for _, argument, _ in objects} - {"expression"})
    if arguments:
        return _invalid(f"Field 'object' doesn't accept argument '{arguments[0]}'")
    fields = [
        f for block in _FRAGMENT.findall(query) + _INLINE.findall(query) for f in block.split()
    ]
    for name in fields:
        if name not in BLOB_FIELDS:
            return _invalid(f"Field '{name}' doesn't exist on type 'Blob'")
    owner, name = variables[where.group(1)], variables[where.group(2)]
    full = f"{owner}/{name}".lower()
    repo = state.repos.get(full)
    if repo is None or (ctx.token is not None and not server._covers(ctx.token, full)):
        message = f"Could not resolve to a Repository with the name '{owner}/{name}'."
        error = {"type": "NOT_FOUND", "path": ["repository"], "message": message}
        return Reply(200, {"data": {"repository": None}, "errors": [error]})
    answer: dict[str, Any] = {}
    for alias, _, var in objects:
        rev, sep, path = variables[var].partition(":")
        files = state.files_at(repo, rev) if sep else None
        data = files.get(path) if files is not None else None
        answer[alias] = None if data is None else _blob(data, set(fields))
    for alias, var, first in pulls:
        pull = state.pulls.get((repo.full_name.lower(), variables[var]))
        if pull is None:
            message = f"Could not resolve to a PullRequest with the number of {variables[var]}."
            error = {"type": "NOT_FOUND", "path": ["repository", alias], "message": message}
            return Reply(200, {"data": {"repository": answer | {alias: None}}, "errors": [error]})
        shas = pull.commit_shas
        nodes = [{"commit": {"message": repo.commits[sha].message}} for sha in shas[: int(first)]]
        answer[alias] = {"commits": {"totalCount": len(shas), "nodes": nodes}}
    return Reply(200, {"data": {"repository": answer}}, {"x-ratelimit-resource": "graphql"})


def _blob(data: bytes, fields: set[str]) -> dict[str, Any]:
    try:
        text: str | None = data.decode("utf-8")
        binary = "\x00" in (text or "")
    except UnicodeDecodeError:
        text, binary = None, True
    cut = data[:TEXT_LIMIT].decode("utf-8", errors="ignore") if text is not None else None
    whole = {
        "byteSize": len(data),
        "isBinary": binary,
        "isTruncated": not binary and len(data) > TEXT_LIMIT,
        "text": None if binary else cut,
        "oid": hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest(),
    }
    return {k: v for k, v in whole.items() if k in fields}


def graphql_errors_next(
    fake: FakeGitHub, *errors: dict[str, Any], data: Any = None, times: int = 1
) -> Fault:
    """The next GraphQL request(s) answered 200 with these `errors` (and `data`, if given)."""
    body: dict[str, Any] = {"errors": list(errors)}
    if data is not None:
        body["data"] = data
    return fake.fail_next("POST", r"/graphql$", 200, body, times=times)


def graphql_rate_limit_next(fake: FakeGitHub, *, reset_in: int = 60, times: int = 1) -> Fault:
    """GitHub's GraphQL primary rate limit: HTTP 200, type RATE_LIMITED, no points left."""
    install = next(iter(fake.installations), 0)
    error = {
        "type": "RATE_LIMITED",
        "message": f"API rate limit exceeded for installation ID {install}.",
    }
    reset = str(int(fake.now().timestamp()) + reset_in)
    headers = {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": reset,
        "x-ratelimit-resource": "graphql",
    }
    return fake.fail_next("POST", r"/graphql$", 200, {"errors": [error]}, headers, times=times)
