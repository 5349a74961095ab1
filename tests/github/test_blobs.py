"""RepoClient.blobs: many files' texts in one GraphQL call, against the fake GitHub's endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from app.github import GitHubApp, GitHubError, RepoClient
from app.github.blobs import TEXT_LIMIT, Blob, BlobRef, blobs_query
from app.runtime import github_credentials
from app.settings import Settings
from tests.fakes.github_graphql import graphql_errors_next, graphql_rate_limit_next
from tests.fakes.github_server import FakeGitHub

REPO = "acme/payments"
DIFF = (
    "diff --git a/app/api.py b/app/api.py\n--- a/app/api.py\n+++ b/app/api.py\n"
    "@@ -1,2 +1,2 @@\n def a():\n-    return 1\n+    return 2\n"
)


async def _no_sleep(_: float) -> None:
    return None


def settings_for(fake: FakeGitHub, tmp_path: Path, api: str = "http://github.test/") -> Settings:
    values: dict[str, Any] = {
        "github_app_id": fake.app_id,
        "github_private_key": fake.private_key_pem,
        "github_api_url": api,
        "data_dir": tmp_path / "data",
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def repo_of(
    fake: FakeGitHub, tmp_path: Path, api: str = "http://github.test/"
) -> AsyncIterator[RepoClient]:
    settings = settings_for(fake, tmp_path, api)
    async with GitHubApp(
        github_credentials(settings), async_transport=fake.transport(), sleep=_no_sleep
    ) as github:
        install = fake.installation_for(fake.repo(REPO))
        assert install is not None
        yield github.repo(install.id, REPO)


def graphql_calls(fake: FakeGitHub) -> int:
    return len(fake.calls_to("POST", r"graphql$"))


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub()
    repo = fake.add_repo(REPO)
    fake.set_file(repo, "base1", "app/api.py", "def a():\n    return 1\n")
    fake.set_file(repo, "head1", "app/api.py", "def a():\n    return 2\n")
    fake.set_file(repo, "head1", 'odd "name"\n.py', "x = 1\n")
    fake.set_file(repo, "head1", "café/ünï.py", "y = 'é'\n")
    fake.set_file(repo, "head1", "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\xff")
    fake.set_file(repo, "head1", "big.sql", "-- x\n" * (TEXT_LIMIT // 5 + 10))
    return fake


async def test_head_and_base_of_many_files_in_one_call(fake: FakeGitHub, tmp_path: Path) -> None:
    refs = [
        BlobRef("head1", "app/api.py"),
        BlobRef("base1", "app/api.py"),
        BlobRef("head1", 'odd "name"\n.py'),
        BlobRef("head1", "café/ünï.py"),
        BlobRef("head1", "logo.png"),
        BlobRef("head1", "big.sql"),
        BlobRef("head1", "gone.py"),
        BlobRef("head1", "app"),  # a directory: no blob
    ]
    async with repo_of(fake, tmp_path) as repo:
        got = await repo.blobs(refs)

    assert got.requests == 1 == graphql_calls(fake)
    found = got.found
    assert found[refs[0]] == Blob("def a():\n    return 2\n", 22, binary=False, truncated=False)
    assert found[refs[1]] is not None
    assert found[refs[1]].text == "def a():\n    return 1\n"
    assert found[refs[2]] is not None
    assert found[refs[2]].text == "x = 1\n"
    assert found[refs[3]] is not None
    assert found[refs[3]].text == "y = 'é'\n"
    logo = found[refs[4]]
    assert logo is not None
    assert logo.binary
    assert logo.text is None
    big = found[refs[5]]
    assert big is not None
    assert big.truncated
    assert big.text is not None
    assert len(big.text.encode()) == TEXT_LIMIT < big.byte_size
    assert found[refs[6]] is None
    assert found[refs[7]] is None
    assert fake.errors == []


async def test_paths_travel_as_variables_never_in_the_query(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    async with repo_of(fake, tmp_path) as repo:
        await repo.blobs([BlobRef("head1", 'odd "name"\n.py')])
    sent = fake.calls_to("POST", r"graphql$")[0].json
    assert "odd" not in sent["query"]
    assert sent["variables"]["e0"] == 'head1:odd "name"\n.py'
    assert sent["query"] == blobs_query(1)


async def test_batches_and_the_call_cap(fake: FakeGitHub, tmp_path: Path) -> None:
    refs = [BlobRef("head1", f"f{i}.py") for i in range(250)]
    async with repo_of(fake, tmp_path) as repo:
        every = await repo.blobs(refs, max_requests=5)
        capped = await repo.blobs(refs, max_requests=2)
    assert every.requests == 3
    assert len(every.found) == 250
    assert capped.requests == 2
    assert len(capped.found) == 200
    assert graphql_calls(fake) == 5


async def test_ghes_graphql_beside_the_rest_prefix(tmp_path: Path) -> None:
    fake = FakeGitHub(api_prefix="/api/v3")
    fake.set_file(fake.add_repo(REPO), "main", "a.py", "a = 1\n")
    async with repo_of(fake, tmp_path, "http://github.test/api/v3") as repo:
        got = await repo.blobs([BlobRef("main", "a.py")])
    assert got.found[BlobRef("main", "a.py")] == Blob("a = 1\n", 6, binary=False, truncated=False)
    assert fake.calls[-1].path == "/graphql"


async def test_a_502_is_retried_like_a_get(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.fail_next("POST", r"graphql$", 502)
    async with repo_of(fake, tmp_path) as repo:
        got = await repo.blobs([BlobRef("head1", "app/api.py")])
    assert got.found[BlobRef("head1", "app/api.py")] is not None
    assert graphql_calls(fake) == 2


async def test_failures_are_github_errors(fake: FakeGitHub, tmp_path: Path) -> None:
    ref = [BlobRef("head1", "app/api.py")]
    async with repo_of(fake, tmp_path) as repo:
        fake.fail_next("POST", r"graphql$", 502, times=3)
        with pytest.raises(GitHubError) as bad_gateway:
            await repo.blobs(ref)
        fake.fail_next("POST", r"graphql$", 401, times=2)
        with pytest.raises(GitHubError) as refused:
            await repo.blobs(ref)
        fake.fail_next("POST", r"graphql$", 403)
        with pytest.raises(GitHubError) as forbidden:
            await repo.blobs(ref)
        graphql_rate_limit_next(fake, reset_in=600)
        with pytest.raises(GitHubError) as limited:
            await repo.blobs(ref)
        graphql_errors_next(fake, {"message": "Something went wrong while executing your query."})
        with pytest.raises(GitHubError) as errors:
            await repo.blobs(ref)
    assert bad_gateway.value.transient
    assert bad_gateway.value.status == 502
    assert refused.value.status == 401
    assert not refused.value.transient
    assert forbidden.value.status == 403
    assert not forbidden.value.transient
    assert limited.value.transient
    assert (limited.value.retry_after or 0) > 500
    assert not errors.value.transient
    assert "Something went wrong" in errors.value.reason


async def test_secondary_rate_limit_waits_then_reads(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.secondary_rate_limit_next("POST", r"graphql$", retry_after=2)
    async with repo_of(fake, tmp_path) as repo:
        got = await repo.blobs([BlobRef("head1", "app/api.py")])
    assert got.found[BlobRef("head1", "app/api.py")] is not None
    assert graphql_calls(fake) == 2


async def test_a_repository_the_token_cannot_see_is_not_found(tmp_path: Path) -> None:
    fake = FakeGitHub()
    fake.add_repo(REPO)
    other = fake.add_repo("rival/secrets")
    fake.set_file(other, "main", "key.py", "k = 1\n")
    async with repo_of(fake, tmp_path) as repo:
        repo.owner, repo.name = "rival", "secrets"  # a client pointed elsewhere
        with pytest.raises(GitHubError) as missing:
            await repo.blobs([BlobRef("main", "key.py")])
    assert missing.value.status == 404
    assert "Could not resolve" in missing.value.reason


async def test_a_token_without_contents_read_is_refused(tmp_path: Path) -> None:
    fake = FakeGitHub()
    fake.add_installation("acme", permissions={"metadata": "read", "pull_requests": "write"})
    fake.add_repo(REPO)
    async with repo_of(fake, tmp_path) as repo:
        with pytest.raises(GitHubError) as refused:
            await repo.blobs([BlobRef("main", "a.py")])
    assert refused.value.status == 403


async def test_no_refs_no_call(fake: FakeGitHub, tmp_path: Path) -> None:
    async with repo_of(fake, tmp_path) as repo:
        got = await repo.blobs([])
    assert got.requests == 0
    assert not got.found
    assert graphql_calls(fake) == 0


async def test_the_commit_messages_ride_in_the_first_call(fake: FakeGitHub, tmp_path: Path) -> None:
    pull = fake.add_pull(REPO, diff=DIFF, commits=("Start ENG-7", "Finish it"))
    many = fake.add_pull(REPO, diff=DIFF, commits=[f"step {i}" for i in range(101)])
    refs = [BlobRef("head1", f"f{i}.py") for i in range(150)]
    async with repo_of(fake, tmp_path) as repo:
        got = await repo.blobs(refs, max_requests=2, commits_of=pull.number)
        alone = await repo.blobs([], commits_of=pull.number)
        too_many = await repo.blobs(refs[:1], commits_of=many.number)
        with pytest.raises(GitHubError):
            await repo.blobs(refs[:1], commits_of=9999)
    assert (got.requests, len(got.found)) == (2, 150)
    assert got.commit_messages == ("Start ENG-7", "Finish it")
    assert (alone.requests, alone.commit_messages) == (1, ("Start ENG-7", "Finish it"))
    assert too_many.commit_messages is None  # past 100 commits: the caller lists them by REST
    sent = [c.json for c in fake.calls_to("POST", r"graphql$")]
    assert [("pullRequest" in s["query"]) for s in sent[:2]] == [True, False]
    assert sent[0]["variables"]["pr"] == pull.number
