"""Everything a job needs from outside the core, built once per process and passed in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from app.github.client import GitHubApp
from app.jobs.cpu_budget import CpuRunner, InlineCpu, ReviewCpu
from app.jobs.cpu_pool import CpuPool
from app.jobs.llm_config import llm_config
from app.jobs.persona_files import bundled_personas_dir
from app.linear.client import LinearClient
from app.llm import ReviewModel, model_from_config
from app.metrics import Metrics
from app.settings import Settings
from app.store.facade import Store
from app.store.jobs import JobQueue, NewJob, utcnow


class ClosableModel(ReviewModel, Protocol):
    async def aclose(self) -> None: ...


# What a review's worker processes run: imported once by the fork server.
CORE_MODULES = ("app.review.diff", "app.review.rules", "app.review.budget", "app.review.plan")

# The review model for a persona's `model` (None: the settings' model), or None without one.
ModelFactory = Callable[[str | None], ClosableModel | None]


@dataclass
class JobContext:
    settings: Settings
    store: Store
    metrics: Metrics
    github: GitHubApp
    queue: JobQueue
    models: ModelFactory
    now: Callable[[], datetime] = utcnow
    wake: Callable[[], None] | None = None  # tell this process's worker a job was queued
    personas_dir: Path = field(default_factory=bundled_personas_dir)
    linear: LinearClient | None = None  # None: linked issues are not read
    cpu: CpuPool | None = None  # None: a review's CPU work runs on the event loop

    async def aclose(self) -> None:
        await self.github.aclose()
        if self.linear is not None:
            await self.linear.aclose()
        if self.cpu is not None:
            await self.cpu.aclose()

    def review_cpu(self) -> CpuRunner:
        """Where one review's CPU steps run: the pool, within the review's budget."""
        if self.cpu is None:
            return InlineCpu()
        return ReviewCpu(self.cpu, self.settings.review_cpu_seconds)

    async def enqueue(self, jobs: Sequence[NewJob]) -> None:
        await self.queue.enqueue(jobs)
        if self.wake is not None:
            for _ in jobs:
                self.wake()


def build_context(
    settings: Settings,
    store: Store,
    metrics: Metrics,
    queue: JobQueue,
    *,
    github: GitHubApp,
    wake: Callable[[], None] | None = None,
    models: ModelFactory | None = None,
) -> JobContext:
    """The jobs' context: `github` and the store from the composition root, the model and
    Linear clients from the settings."""
    return JobContext(
        settings=settings,
        store=store,
        metrics=metrics,
        github=github,
        queue=queue,
        models=models or _models_from(settings),
        wake=wake,
        personas_dir=bundled_personas_dir(settings.personas_dir),
        linear=_linear_from(settings),
        cpu=cpu_pool(settings),
    )


def cpu_pool(settings: Settings) -> CpuPool | None:
    """The review's worker processes (started on first use; the fork server preloads the
    core so a replacement after an overrun is ready in milliseconds)."""
    if settings.cpu_processes == 0:
        return None
    return CpuPool(settings.cpu_processes, preload=CORE_MODULES)


def _linear_from(settings: Settings) -> LinearClient | None:
    key = settings.linear_api_key.get_secret_value() if settings.linear_api_key else ""
    if not key:
        return None
    return LinearClient(key, str(settings.linear_api_url))


def _models_from(settings: Settings) -> ModelFactory:
    def factory(persona_model: str | None) -> ClosableModel | None:
        if settings.llm_missing() is not None:
            return None  # the review runs on the rules alone and says why
        return model_from_config(llm_config(settings), persona_model=persona_model)

    return factory
