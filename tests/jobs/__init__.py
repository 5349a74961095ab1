"""Tests of the jobs against the fake GitHub (in-process, over ASGITransport) and the fake
Messages API, with a real database: only the network edge is faked.

`World` holds one of each plus the job context, and runs a job the way the worker does:
enqueue, claim, call the handler, complete (or fail).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import PermanentJobError
from app.github.client import GitHubApp
from app.jobs.context import ClosableModel, JobContext
from app.jobs.handlers import build_handlers
from app.jobs.payloads import ReviewJob, review_key
from app.linear.client import LinearClient
from app.llm import AnthropicModel
from app.metrics import Metrics
from app.runtime import github_credentials
from app.settings import Settings
from app.store.facade import Store
from app.store.jobs import ClaimedJob, JobQueue, NewJob
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.github_server import FakeGitHub
from tests.fakes.github_state import Pull, Repo
from tests.fakes.linear_api import KEY as LINEAR_KEY
from tests.fakes.linear_api import URL as LINEAR_URL
from tests.fakes.linear_api import FakeLinear
from tests.llm import MODEL

REFUNDS = (Path(__file__).parent.parent / "diffs" / "refunds.diff").read_text(encoding="utf-8")
ENDPOINT = "app/api/refunds.py"
LEDGER = "app/services/ledger.py"
REPO = "acme/payments"


async def _no_sleep(_: float) -> None:
    return None


@dataclass
class World:
    github: FakeGitHub
    llm: FakeAnthropic
    ctx: JobContext
    queue: JobQueue
    repo: Repo
    linear: FakeLinear
    model_on: bool = True

    def pull(self, diff: str = REFUNDS, **kwargs: Any) -> Pull:
        return self.github.add_pull(self.repo, diff=diff, **kwargs)

    def review_job(self, pull: Pull, trigger: str = "pull_request.opened") -> NewJob:
        job = ReviewJob(
            installation_id=self.repo.installation_id,
            repository=self.repo.full_name,
            repository_id=self.repo.id,
            number=pull.number,
            head_sha=pull.head_sha,
            base_sha=pull.base_sha,
            trigger=trigger,
        )
        return NewJob(
            "review", job.model_dump(), coalesce_key=review_key(self.repo.id, pull.number)
        )

    async def run(self, job: NewJob) -> ClaimedJob:
        """Queue `job`, claim the oldest job, run it; returns the job that ran."""
        await self.queue.enqueue([job])
        return await self.run_next()

    async def run_next(self) -> ClaimedJob:
        claimed = await self.queue.claim()
        assert claimed is not None, "no job to run"
        handler = build_handlers(self.ctx)[claimed.kind]
        try:
            await handler(claimed)
        except PermanentJobError as exc:
            await self.queue.fail(claimed, str(exc), permanent=True)
            raise
        except Exception as exc:
            await self.queue.fail(claimed, f"{type(exc).__name__}: {exc}")
            raise
        await self.queue.complete(claimed)
        return claimed

    def calls(self) -> list[str]:
        """Installation-token calls to GitHub so far, as "METHOD /path"."""
        return [f"{c.method} {c.path}" for c in self.github.calls if c.auth == "token"]


def settings_for(github: FakeGitHub, tmp_path: Path, **changes: Any) -> Settings:
    pem = github.private_key_pem
    values: dict[str, Any] = {
        "github_app_id": github.app_id,
        "github_private_key": pem.decode() if isinstance(pem, bytes) else pem,
        "github_webhook_secret": "It's a Secret to Everybody",
        "github_api_url": "http://github.test/",
        "anthropic_api_key": FakeAnthropic.API_KEY,
        "model": MODEL,
        "data_dir": tmp_path / "data",
        "worker_concurrency": 0,
        "llm_max_attempts": 2,
        **changes,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def world(
    engine: AsyncEngine, tmp_path: Path, **setting_changes: Any
) -> AsyncIterator[World]:
    github = FakeGitHub()
    repo = github.add_repo(REPO)
    github.set_permission(repo, "maintainer", "write")
    github.set_permission(repo, "reader", "read")
    llm = FakeAnthropic()
    settings = settings_for(github, tmp_path, **setting_changes)
    metrics = Metrics()
    app = GitHubApp(
        github_credentials(settings),
        async_transport=github.transport(),
        sleep=_no_sleep,
        metrics=metrics,
    )
    queue = JobQueue(engine, worker_id="test", max_attempts=3)
    state: dict[str, World] = {}

    def models(persona_model: str | None) -> ClosableModel | None:
        if not state["world"].model_on:
            return None
        return AnthropicModel(
            llm.client(),
            model=persona_model or MODEL,
            max_output_tokens=4096,
            timeout_seconds=30,
            max_attempts=2,
            secrets=(llm.api_key,),
            sleep=_no_sleep,
        )

    linear = FakeLinear()
    linear_http = httpx.AsyncClient(transport=httpx.MockTransport(linear))
    ctx = JobContext(
        settings=settings,
        store=Store(engine),
        metrics=metrics,
        github=app,
        queue=queue,
        models=models,
        linear=LinearClient(LINEAR_KEY, LINEAR_URL, http_client=linear_http),
    )
    state["world"] = World(github=github, llm=llm, ctx=ctx, queue=queue, repo=repo, linear=linear)
    try:
        yield state["world"]
    finally:
        await ctx.aclose()
        await linear_http.aclose()
    assert github.errors == []
