"""Reading a pull request's whole files from the fake GitHub: the calls, the hop, the failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from app.github import GitHubApp, RepoClient
from app.jobs.files import ReadFiles, read_files
from app.review.diff import parse_diff
from app.review.file_gather import ContextLimits
from app.runtime import github_credentials
from app.settings import Settings
from tests.fakes.github_graphql import graphql_errors_next, graphql_rate_limit_next
from tests.fakes.github_server import FakeGitHub
from tests.fakes.github_state import Pull

REPO = "acme/payments"
BASE_ROUTE = (
    "from fastapi import APIRouter\nfrom app.auth import admin_only\n\nrouter = APIRouter()\n\n\n"
    "@admin_only\n@router.get('/refunds')\ndef listing():\n    return []\n"
)
HEAD_ROUTE = BASE_ROUTE + "\n\n@admin_only\n@router.post('/refunds')\ndef create():\n    return 1\n"
DIFF = """\
diff --git a/app/api/refunds.py b/app/api/refunds.py
--- a/app/api/refunds.py
+++ b/app/api/refunds.py
@@ -8,3 +8,8 @@ router = APIRouter()
 @router.get('/refunds')
 def listing():
     return []
+
+
+@admin_only
+@router.post('/refunds')
+def create():
+    return 1
diff --git a/app/api/webhooks.py b/app/api/webhooks.py
new file mode 100644
--- /dev/null
+++ b/app/api/webhooks.py
@@ -0,0 +1,3 @@
+from .guards import signed
+@signed
+def hook(): ...
"""
AUTH = "def admin_only(f):\n    return f\n"
GUARDS = "def signed(f):\n    return f\n"


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def pull(fake: FakeGitHub) -> Pull:
    repo = fake.add_repo(REPO)
    pull = fake.add_pull(repo, diff=DIFF)
    fake.set_file(repo, pull.base_sha, "app/api/refunds.py", BASE_ROUTE)
    fake.set_file(repo, pull.head_sha, "app/api/refunds.py", HEAD_ROUTE)
    fake.set_file(repo, pull.head_sha, "app/api/webhooks.py", "ignored: the diff has it whole")
    fake.set_file(repo, pull.head_sha, "app/auth.py", AUTH)
    fake.set_file(repo, pull.head_sha, "app/api/guards.py", GUARDS)
    return pull


@asynccontextmanager
async def repo_of(fake: FakeGitHub, tmp_path: Path) -> AsyncIterator[RepoClient]:
    values: dict[str, Any] = {
        "github_app_id": fake.app_id,
        "github_private_key": fake.private_key_pem,
        "github_api_url": "http://github.test/",
        "data_dir": tmp_path / "data",
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    async with GitHubApp(
        github_credentials(settings), async_transport=fake.transport(), sleep=_no_sleep
    ) as github:
        install = fake.installation_for(fake.repo(REPO))
        assert install is not None
        yield github.repo(install.id, REPO)


async def read(
    fake: FakeGitHub, pull: Pull, tmp_path: Path, limits: ContextLimits | None = None
) -> ReadFiles:
    async with repo_of(fake, tmp_path) as repo:
        return await read_files(
            repo,
            parse_diff(DIFF),
            head_sha=pull.head_sha,
            base_sha=pull.base_sha,
            ignore=(),
            limits=limits or ContextLimits(),
        )


def graphql_calls(fake: FakeGitHub) -> int:
    return len(fake.calls_to("POST", r"graphql$"))


async def test_one_call_for_the_files_one_more_for_the_guard_module(
    fake: FakeGitHub, pull: Pull, tmp_path: Path
) -> None:
    got = await read(fake, pull, tmp_path)
    context = got.context
    assert got.calls == 2 == graphql_calls(fake)
    assert context.head("app/api/refunds.py") == HEAD_ROUTE
    assert context.base("app/api/refunds.py") == BASE_ROUTE
    assert (
        context.head("app/api/webhooks.py")
        == "from .guards import signed\n@signed\ndef hook(): ...\n"
    )
    assert context.head("app/api/guards.py") == GUARDS  # asked in the first call: an added file
    assert context.head("app/auth.py") == AUTH  # the second: imported by the changed route file
    assert context.notes == ()
    first = fake.calls_to("POST", r"graphql$")[0].json["variables"]
    assert sorted(v for k, v in first.items() if k.startswith("e")) == sorted(
        [
            f"{pull.head_sha}:app/api/refunds.py",
            f"{pull.base_sha}:app/api/refunds.py",
            f"{pull.head_sha}:app/api/guards.py",
            f"{pull.head_sha}:app/api/guards/__init__.py",
        ]
    )
    assert fake.errors == []


async def test_one_call_when_the_budget_allows_one(
    fake: FakeGitHub, pull: Pull, tmp_path: Path
) -> None:
    got = await read(fake, pull, tmp_path, ContextLimits(max_calls=1))
    assert got.calls == 1 == graphql_calls(fake)
    assert got.context.head("app/auth.py") is None
    assert got.context.head("app/api/refunds.py") == HEAD_ROUTE


async def test_nothing_to_read_no_call(fake: FakeGitHub, pull: Pull, tmp_path: Path) -> None:
    got = await read(fake, pull, tmp_path, ContextLimits(max_files=0))
    assert got.calls == 0 == graphql_calls(fake)
    assert got.context.notes  # the files over the limit are named


@pytest.mark.parametrize(
    "fail",
    [
        lambda fake: fake.fail_next("POST", r"graphql$", 502, times=3),
        lambda fake: fake.fail_next("POST", r"graphql$", 401, times=2),
        lambda fake: fake.fail_next("POST", r"graphql$", 403),
        lambda fake: graphql_rate_limit_next(fake, reset_in=3_600),
        lambda fake: graphql_errors_next(fake, {"message": "Something went wrong"}),
    ],
    ids=["502", "401", "403", "rate-limited", "errors"],
)
async def test_a_failure_leaves_the_hunks_and_a_note(
    fake: FakeGitHub, pull: Pull, tmp_path: Path, fail: Any
) -> None:
    fail(fake)
    got = await read(fake, pull, tmp_path)
    context = got.context
    assert context.head("app/api/refunds.py") is None
    # what the diff holds whole is kept
    assert context.head("app/api/webhooks.py") is not None
    assert len(context.notes) == 1
    assert context.notes[0].startswith("whole files could not be read from GitHub (")
    assert "ghs_" not in context.notes[0]
    assert got.calls == 1
