"""Reading a pull request's whole files: GitHub calls and bytes, GraphQL against REST.

    .venv/bin/python -m bench.file_fetch              # 20-file and 300-file PRs

Against the fake GitHub (tests/fakes/), over the real client (githubkit, our retry loop):

- graphql:  app/github/blobs.py, what the review uses: `object(expression: "SHA:path")`
  aliases, 100 per request;
- contents: REST `GET /contents/{path}?ref=SHA`, one call per file and side (base64 JSON);
- git:      REST `GET /git/trees/{SHA}?recursive=1` once per side, then `GET /git/blobs/{sha}`
  per file and side.

Each PR modifies N files in a repository of 2,000 files; every file is read at head and at
base (the most a review asks: it reads bases for routes, auth, models and migrations only).
File sizes are drawn from 40-1,200 lines of ~40 bytes (seeded). Bytes are those on the wire
(request and response bodies, without headers); calls exclude the token exchange. The fake
answers in-process, so time here is our side's cost, not GitHub's latency: what a call costs
in latency is GitHub's (50-300 ms a call is typical), and that is what the call count buys.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from app.github import GitHubApp, RepoClient
from app.github.blobs import BlobRef
from app.runtime import github_credentials
from app.settings import Settings
from tests.fakes.github_server import FakeGitHub

REPO = "acme/payments"
REPO_FILES = 2_000


@dataclass
class Wire:
    calls: int = 0
    sent: int = 0
    received: int = 0


class Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, wire: Wire) -> None:
        self._inner = inner
        self.wire = wire

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        if not request.url.path.endswith("/access_tokens"):
            self.wire.calls += 1
            self.wire.sent += len(request.content)
            self.wire.received += len(body)
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )


def _source(r: random.Random, n: int) -> str:
    lines = r.randrange(40, 1_200)
    return "".join(
        f"    value_{n}_{i} = service.call_{i % 17}(request, amount={r.randrange(1000)})\n"
        for i in range(lines)
    )


def _world(changed: int, seed: int = 7) -> tuple[FakeGitHub, str, str, list[str]]:
    r = random.Random(seed)
    fake = FakeGitHub()
    repo = fake.add_repo(REPO)
    pull = fake.add_pull(repo, diff="")
    paths = [f"app/module_{i // 50}/file_{i}.py" for i in range(REPO_FILES)]
    for i, path in enumerate(paths):
        text = _source(r, i)
        fake.set_file(repo, pull.base_sha, path, text)
        fake.set_file(repo, pull.head_sha, path, text + "# changed\n" if i < changed else text)
    return fake, pull.head_sha, pull.base_sha, paths[:changed]


async def _graphql(repo: RepoClient, head: str, base: str, paths: list[str]) -> int:
    refs = [BlobRef(sha, p) for p in paths for sha in (head, base)]
    got = await repo.blobs(refs, max_requests=100)
    return sum(1 for b in got.found.values() if b is not None and b.text is not None)


async def _contents(gh: Any, head: str, base: str, paths: list[str]) -> int:
    read = 0
    for path in paths:
        for sha in (head, base):
            response = await gh.rest.repos.async_get_content(
                "acme", "payments", quote(path, safe="/"), ref=sha
            )
            read += bool(base64.b64decode(response.json()["content"]))
    return read


async def _git(gh: Any, head: str, base: str, paths: list[str]) -> int:
    read = 0
    wanted = set(paths)
    for sha in (head, base):
        tree = (await gh.rest.git.async_get_tree("acme", "payments", sha, recursive="1")).json()
        for entry in tree["tree"]:
            if entry["path"] in wanted:
                blob = await gh.rest.git.async_get_blob("acme", "payments", entry["sha"])
                read += bool(base64.b64decode(blob.json()["content"]))
    return read


async def _measure(way: str, changed: int) -> tuple[Wire, float, int]:
    fake, head, base, paths = _world(changed)
    wire = Wire()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            github_app_id=fake.app_id,
            github_private_key=fake.private_key_pem,
            github_api_url="http://github.test/",
            data_dir=Path(tmp),
        )
        transport = Counting(fake.transport(), wire)
        async with GitHubApp(github_credentials(settings), async_transport=transport) as github:
            install = fake.installation_for(fake.repo(REPO))
            assert install is not None
            repo = github.repo(install.id, REPO)
            started = time.perf_counter()
            if way == "graphql":
                read = await _graphql(repo, head, base, paths)
            elif way == "contents":
                read = await _contents(repo._gh, head, base, paths)
            else:
                read = await _git(repo._gh, head, base, paths)
            seconds = time.perf_counter() - started
    assert not fake.errors, fake.errors
    return wire, seconds, read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,300", help="changed files per PR, comma list")
    args = parser.parse_args()
    print(f"{'PR':>9} {'way':>9} {'calls':>6} {'texts':>6} {'sent':>10} {'received':>12} {'s':>6}")
    for size in (int(s) for s in args.sizes.split(",")):
        for way in ("graphql", "contents", "git"):
            wire, seconds, read = asyncio.run(_measure(way, size))
            print(
                f"{size:>6} f. {way:>9} {wire.calls:>6} {read:>6} {wire.sent:>10,} "
                f"{wire.received:>12,} {seconds:>6.2f}"
            )


if __name__ == "__main__":
    main()
