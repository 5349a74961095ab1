"""The fake GitHub's Git database reads: a commit's tree (recursive) and a blob by its SHA.

The REST way to read many files is one tree call (`GET /git/trees/{sha}?recursive=1`, every
path with its blob SHA and size) and one blob call per file (`GET /git/blobs/{sha}`, base64
wrapped at 60 characters). The project reads files through GraphQL (app/github/blobs.py); these
routes let bench/file_fetch.py measure the alternative over the same wire. Directories are
flattened into the recursive listing (the fake keeps no tree objects); GitHub truncates a
listing over 100,000 entries, which the fake does not.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from tests.fakes import github_json as js
from tests.fakes.github_http import Ctx, Reply, Route, not_found, route
from tests.fakes.github_routes import READ_CONTENTS, repo_of
from tests.fakes.github_state import GitHubState

ROUTES: list[Route] = []


def blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@route(ROUTES, "GET", "/repos/{owner}/{repo}/git/trees/{sha}", "token", READ_CONTENTS)
def get_tree(state: GitHubState, ctx: Ctx) -> Reply:
    repo = repo_of(ctx)
    files = state.files_at(repo, ctx.params["sha"])
    if files is None:
        raise not_found("/git/trees#get-a-tree")
    api = f"{ctx.api}/repos/{repo.full_name}/git"
    entries: list[dict[str, Any]] = []
    for path in sorted(files):
        sha = blob_sha(files[path])
        entries.append(
            {"path": path, "mode": "100644", "type": "blob", "sha": sha,
             "size": len(files[path]), "url": f"{api}/blobs/{sha}"}
        )  # fmt: skip
    tree = hashlib.sha1(ctx.params["sha"].encode(), usedforsecurity=False).hexdigest()
    return Reply(
        200, {"sha": tree, "url": f"{api}/trees/{tree}", "tree": entries, "truncated": False}
    )


@route(ROUTES, "GET", "/repos/{owner}/{repo}/git/blobs/{sha}", "token", READ_CONTENTS)
def get_blob(state: GitHubState, ctx: Ctx) -> Reply:
    repo = repo_of(ctx)
    wanted = ctx.params["sha"]
    for files in repo.files.values():
        for data in files.values():
            if blob_sha(data) == wanted:
                encoded = base64.b64encode(data).decode()
                wrapped = "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))
                url = f"{ctx.api}/repos/{repo.full_name}/git/blobs/{wanted}"
                return Reply(
                    200,
                    {
                        "sha": wanted, "node_id": js.node_id("B", len(data)), "size": len(data),
                        "url": url, "content": wrapped, "encoding": "base64",
                    },
                )  # fmt: skip
    raise not_found("/git/blobs#get-a-blob")
