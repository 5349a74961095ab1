"""A pull request's review threads, and resolving them: GraphQL only (REST has no thread).

One query lists the threads, 100 a page (`reviewThreads`), each with its state, the authors
of its first 100 comments (the first is the thread's root, named by its REST id,
`databaseId`) and its last comment's body:

    pullRequest(number: $pr) { reviewThreads(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id isResolved
        comments(first: 100) { totalCount nodes { databaseId author { __typename login } } }
        last: comments(last: 1) { nodes { body author { __typename login } } } } } }

One mutation resolves up to `RESOLVE_PER_REQUEST` threads, one alias each
(`t0: resolveReviewThread(input: {threadId: $t0}) { thread { id isResolved } }`): GitHub
answers each alias on its own, so a thread that cannot be resolved (gone, or a permission
missing) is an error naming its alias while the others are resolved. It needs the
installation's `pull_requests: write`. A mutation is never retried (app.github.retry);
resolving a resolved thread again is harmless, so the next review may try again.

GraphQL names a bot by its slug (`backend-review`, typename `Bot`), where REST says
`backend-review[bot]`: `ThreadComment.by` compares both spellings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from githubkit.exception import GraphQLFailed

from app.github.parse import read_data
from app.github.repo_base import RepoBase
from app.github.types import GitHubError

THREADS_PER_PAGE = 100
MAX_THREAD_PAGES = 5  # 500 threads: past that a pull request is not one we tidy up
COMMENTS_PER_THREAD = 100
RESOLVE_PER_REQUEST = 50

THREADS_QUERY = (
    "query($owner: String!, $name: String!, $pr: Int!, $after: String) { "
    "repository(owner: $owner, name: $name) { pullRequest(number: $pr) { "
    f"reviewThreads(first: {THREADS_PER_PAGE}, after: $after) {{ "
    "pageInfo { hasNextPage endCursor } "
    "nodes { id isResolved "
    f"comments(first: {COMMENTS_PER_THREAD}) {{ totalCount "
    "nodes { databaseId author { __typename login } } } "
    "last: comments(last: 1) { nodes { body author { __typename login } } } } } } } }"
)


@dataclass(frozen=True, slots=True)
class ThreadComment:
    kind: str  # GraphQL's __typename of the author: "User", "Bot", ... ("" for a deleted user)
    login: str

    def by(self, bot_login: str) -> bool:
        """Written by the bot whose REST login is `bot_login` ("slug[bot]")."""
        return self.kind == "Bot" and self.login in (bot_login, bot_login.removesuffix("[bot]"))

    @property
    def person(self) -> bool:
        """A person wrote it (a deleted account is shown as a ghost: still a person)."""
        return self.kind != "Bot"


@dataclass(frozen=True, slots=True)
class ReviewThread:
    id: str  # GraphQL node id, what resolveReviewThread takes
    resolved: bool
    root_id: int | None  # the REST id of its first comment
    authors: tuple[ThreadComment, ...]  # of the first COMMENTS_PER_THREAD comments, in order
    more: bool  # more comments than `authors` lists
    last: ThreadComment | None
    last_body: str

    def people_spoke(self) -> bool:
        """Someone other than a bot wrote in it (beyond what was read: assumed so)."""
        return self.more or any(a.person for a in self.authors)


@dataclass(frozen=True, slots=True)
class Threads:
    threads: tuple[ReviewThread, ...]
    requests: int
    truncated: bool  # more than MAX_THREAD_PAGES pages: the rest was not read


def resolve_mutation(count: int) -> str:
    declared = ", ".join(f"$t{i}: ID!" for i in range(count))
    fields = " ".join(
        f"t{i}: resolveReviewThread(input: {{threadId: $t{i}}}) {{ thread {{ id isResolved }} }}"
        for i in range(count)
    )
    return f"mutation({declared}) {{ {fields} }}"


class RepoThreads(RepoBase):
    async def review_threads(self, number: int, *, max_pages: int = MAX_THREAD_PAGES) -> Threads:
        """The review threads of pull request `number`, oldest first."""
        found: list[ReviewThread] = []
        after: str | None = None
        requests = 0
        while True:
            if requests >= max_pages:
                return Threads(tuple(found), requests, True)
            variables = {"owner": self.owner, "name": self.name, "pr": number, "after": after}
            requests += 1
            data = await self._call(partial(self._gh.async_graphql, THREADS_QUERY, variables))
            page, after = read_data(f"the review threads of #{number}", _read_threads, data)
            found += page
            if after is None:
                return Threads(tuple(found), requests, False)

    async def resolve_threads(self, thread_ids: Sequence[str]) -> dict[str, str | None]:
        """Resolve each thread: thread id -> None when it is resolved, else GitHub's reason.

        A failure of the whole request (GitHub down, a rate limit) raises GitHubError for the
        caller to report; what an earlier batch resolved stays resolved."""
        out: dict[str, str | None] = {}
        ids = list(dict.fromkeys(thread_ids))
        for start in range(0, len(ids), RESOLVE_PER_REQUEST):
            batch = ids[start : start + RESOLVE_PER_REQUEST]
            variables = {f"t{i}": thread_id for i, thread_id in enumerate(batch)}
            query = resolve_mutation(len(batch))
            answer = await self._call(partial(_partial_graphql, self._gh, query, variables))
            out |= _read_resolved(batch, answer)
        return out


async def _partial_graphql(gh: Any, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """`data` and `errors` both: one alias's error must not hide what the others did."""
    try:
        return {"data": await gh.async_graphql(query, variables), "errors": []}
    except GraphQLFailed as exc:
        if exc.response.data is None:
            raise  # nothing was done: a validation error, or an error of the whole request
        errors = [e.model_dump() for e in exc.response.errors or []]
        return {"data": exc.response.data, "errors": errors}


def _read_resolved(batch: Sequence[str], answer: dict[str, Any]) -> dict[str, str | None]:
    reasons: dict[str, str] = {}
    for error in answer.get("errors") or []:
        path = error.get("path") or []
        alias = str(path[0]) if path else ""
        reasons.setdefault(alias, str(error.get("message") or error.get("type") or "error"))
    data = answer.get("data") or {}
    out: dict[str, str | None] = {}
    for i, thread_id in enumerate(batch):
        alias = f"t{i}"
        node = data.get(alias)
        thread = node.get("thread") if isinstance(node, dict) else None
        if isinstance(thread, dict) and thread.get("isResolved"):
            out[thread_id] = None
        else:
            out[thread_id] = reasons.get(alias, "GitHub did not resolve it")[:300]
    return out


def _author(node: Any) -> ThreadComment:
    author = node.get("author") if isinstance(node, dict) else None
    if not isinstance(author, dict):
        return ThreadComment("", "ghost")
    return ThreadComment(str(author.get("__typename") or ""), str(author.get("login") or ""))


def _read_threads(data: Any) -> tuple[list[ReviewThread], str | None]:
    repository = data["repository"]
    pull = repository["pullRequest"] if repository is not None else None
    if pull is None:
        raise GitHubError("GitHub did not find the pull request (GraphQL)", status=404)
    connection = pull["reviewThreads"]
    threads = []
    for node in connection["nodes"]:
        comments = node["comments"]
        nodes = comments["nodes"]
        last_nodes = node["last"]["nodes"]
        last = last_nodes[-1] if last_nodes else None
        root = nodes[0].get("databaseId") if nodes else None
        threads.append(
            ReviewThread(
                id=str(node["id"]),
                resolved=bool(node["isResolved"]),
                root_id=int(root) if root is not None else None,
                authors=tuple(_author(c) for c in nodes),
                more=int(comments["totalCount"]) > len(nodes),
                last=_author(last) if last is not None else None,
                last_body=str(last.get("body") or "") if last is not None else "",
            )
        )
    page = connection["pageInfo"]
    after = str(page["endCursor"]) if page["hasNextPage"] and page.get("endCursor") else None
    return threads, after
