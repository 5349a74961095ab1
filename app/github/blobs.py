"""Many files' texts in few calls: GitHub GraphQL `object(expression: "SHA:path")` with aliases.

One request names up to `PER_REQUEST` objects, each `SHA:path`, as variables (a path never
enters the query text, so quotes or newlines in it cannot change the query):

    query($owner: String!, $name: String!, $e0: String!, ...) {
      repository(owner: $owner, name: $name) {
        f0: object(expression: $e0) { ...blob }  ...
      }
    }

With `commits_of`, the first request also asks for the pull request's commit messages (oldest
first, as REST lists them): the review reads them to find linked issues, and this saves the
REST call. Past `COMMITS_LIMIT` commits they are not given (the caller lists them by REST).

GitHub answers `null` for a path with no object at that commit, and for a blob `byteSize`,
`isBinary` (then `text` is null) and `text`, cut at 512,000 bytes with `isTruncated` set. We
measured this against the REST alternatives (contents or git blobs, one call per file per
side): see docs/performance.md, "Reading whole files".

Failures are GitHubErrors like every verb's: an answer with an `errors` array (githubkit's
GraphQLFailed) is translated in `app.github.errors`; a GraphQL rate limit is a transient
GitHubError with the wait. A query is a read, so a 5xx is retried like a GET
(`app.github.retry`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from app.github.parse import read_data
from app.github.repo_base import RepoBase
from app.github.types import GitHubError

PER_REQUEST = 100  # objects per query: each answer stays within GitHub's time and size limits
TEXT_LIMIT = 512_000  # bytes of a blob's text GitHub sends; beyond it `isTruncated` is set

COMMITS_LIMIT = 100  # a GraphQL connection gives at most 100 nodes per request

_FRAGMENT = "fragment blob on Blob { byteSize isBinary isTruncated text }"
_COMMITS = (
    f"pr: pullRequest(number: $pr) {{ commits(first: {COMMITS_LIMIT}) "
    "{ totalCount nodes { commit { message } } } }"
)


@dataclass(frozen=True, slots=True)
class BlobRef:
    sha: str  # a commit SHA
    path: str


@dataclass(frozen=True, slots=True)
class Blob:
    text: str | None  # None for a binary blob
    byte_size: int
    binary: bool
    truncated: bool  # GitHub sent only the first TEXT_LIMIT bytes


@dataclass(frozen=True, slots=True)
class Blobs:
    """What one `blobs` call found: None for a path with no file at that commit."""

    found: Mapping[BlobRef, Blob | None]
    requests: int  # GitHub calls made (what the review's call budget counts)
    # The pull request's commit messages when `commits_of` asked for them and there were at most
    # COMMITS_LIMIT; else None.
    commit_messages: tuple[str, ...] | None = None


def blobs_query(count: int, *, commits: bool = False) -> str:
    """The query for `count` objects, named f0..f{count-1}, variables e0..e{count-1}; with
    `commits`, the pull request `$pr`'s commit messages too (alias `pr`)."""
    declared = "".join(f", $e{i}: String!" for i in range(count))
    fields = " ".join(f"f{i}: object(expression: $e{i}) {{ ...blob }}" for i in range(count))
    if commits:
        declared += ", $pr: Int!"
        fields = f"{fields} {_COMMITS}".strip()
    fragment = f" {_FRAGMENT}" if count else ""
    return (
        f"query($owner: String!, $name: String!{declared}) "
        f"{{ repository(owner: $owner, name: $name) {{ {fields} }} }}{fragment}"
    )


class RepoBlobs(RepoBase):
    async def blobs(
        self,
        refs: Sequence[BlobRef],
        *,
        per_request: int = PER_REQUEST,
        max_requests: int = 1,
        commits_of: int | None = None,
    ) -> Blobs:
        """The blobs at `refs`, in batches of `per_request`, at most `max_requests` calls; with
        `commits_of`, that pull request's commit messages in the first call.

        Refs beyond what `max_requests` calls can hold are not asked for and not in `found`.
        """
        wanted = list(dict.fromkeys(refs))
        found: dict[BlobRef, Blob | None] = {}
        messages: tuple[str, ...] | None = None
        requests = 0
        step = max(per_request, 1)
        for start in range(0, max(len(wanted), 1 if commits_of is not None else 0), step):
            if requests >= max_requests:
                break
            batch = wanted[start : start + per_request]
            variables: dict[str, Any] = {"owner": self.owner, "name": self.name}
            variables |= {f"e{i}": f"{ref.sha}:{ref.path}" for i, ref in enumerate(batch)}
            asks_commits = commits_of is not None and requests == 0
            if asks_commits:
                variables["pr"] = commits_of
            query = blobs_query(len(batch), commits=asks_commits)
            requests += 1
            data = await self._call(partial(self._gh.async_graphql, query, variables))
            found |= read_data(f"the files of {self.full_name}", partial(_read_batch, batch), data)
            if asks_commits:
                messages = read_data(f"the commits of #{commits_of}", _read_commits, data)
        return Blobs(found, requests, messages)


def _read_commits(data: Any) -> tuple[str, ...] | None:
    pull = data["repository"]["pr"]
    if pull is None:
        raise GitHubError("GitHub did not find the pull request (GraphQL)", status=404)
    commits = pull["commits"]
    if int(commits["totalCount"]) > COMMITS_LIMIT:
        return None
    return tuple(str(node["commit"]["message"]) for node in commits["nodes"])


def _read_batch(batch: Sequence[BlobRef], data: Any) -> dict[BlobRef, Blob | None]:
    repository = data["repository"]
    if repository is None:  # GitHub sends an error with it; kept for a proxy that does not
        raise GitHubError("GitHub did not find the repository (GraphQL)", status=404)
    out: dict[BlobRef, Blob | None] = {}
    for i, ref in enumerate(batch):
        node = repository[f"f{i}"]
        if node is None or "byteSize" not in node:
            out[ref] = None  # no such path, or a tree or submodule there (no Blob fields)
            continue
        text = node.get("text")
        binary = bool(node["isBinary"])
        out[ref] = Blob(
            text=None if binary or text is None else str(text),
            byte_size=int(node["byteSize"]),
            binary=binary or text is None,
            truncated=bool(node.get("isTruncated")),
        )
    return out
