"""The FastAPI application: built from Settings, owns the engine, writer and worker."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app import __version__
from app.jobs.context import build_context
from app.metrics import Metrics
from app.pipeline import JobHandler, build_handlers
from app.recovery import recover_on_start
from app.settings import Settings
from app.store import migrate
from app.store.db import make_engine
from app.store.deliveries import DeliveryWriter
from app.store.jobs import Clock, JobQueue, utcnow
from app.web import health, home, setup, webhooks
from app.web.intake import Intake, Limits
from app.web.services import Services
from app.web.setup_gate import SetupGate
from app.worker import Worker

log = logging.getLogger(__name__)


def worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def build_queue(settings: Settings, engine: AsyncEngine, clock: Clock = utcnow) -> JobQueue:
    return JobQueue(
        engine,
        worker_id=worker_id(),
        lease_seconds=settings.job_lease_seconds,
        max_attempts=settings.job_max_attempts,
        clock=clock,
    )


def create_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    clock: Clock = utcnow,
    handlers: Mapping[str, JobHandler] | None = None,
) -> FastAPI:
    """The web app; with `worker_concurrency` > 0 it runs the worker in the same process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = engine or make_engine(settings.resolved_database_url)
        await migrate.upgrade(db)
        metrics = Metrics()
        queue = build_queue(settings, db, clock)
        worker = None
        context = None
        if settings.worker_concurrency > 0:
            if handlers is None:
                context = build_context(settings, db, metrics, queue)
            worker = Worker(
                queue,
                handlers if handlers is not None else build_handlers(context),
                concurrency=settings.worker_concurrency,
                poll_seconds=settings.job_poll_seconds,
                drain_seconds=settings.drain_seconds,
                metrics=metrics,
            )
        writer = DeliveryWriter(
            db,
            max_attempts=settings.job_max_attempts,
            clock=clock,
            on_jobs=worker.wake if worker else None,
        )
        writer.start()
        if worker:
            if context is not None:
                context.wake = worker.wake
            worker.start()
        app.state.services = Services(
            settings=settings,
            engine=db,
            metrics=metrics,
            writer=writer,
            queue=queue,
            worker=worker,
            head_revision=migrate.head_revision(),
        )
        missing = settings.missing_github_app()
        if missing:
            log.warning("not connected to GitHub yet; set %s", ", ".join(missing))
            app.state.setup_gate.announce(settings)
        recovery = None
        if settings.recover_on_start and not missing:
            # In the background: readiness does not wait on GitHub.
            recovery = asyncio.create_task(
                recover_on_start(settings, db, clock), name="recover-deliveries"
            )
        try:
            yield
        finally:
            if recovery is not None:
                recovery.cancel()
                await asyncio.gather(recovery, return_exceptions=True)
            # Uvicorn has stopped taking requests by now: store what was accepted, then drain.
            await writer.stop()
            if worker:
                await worker.stop()
            if context is not None:
                await context.aclose()
            if engine is None:
                await db.dispose()

    app = FastAPI(
        title="backend-review",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # Shared by every webhook request: the budgets for bodies not yet authenticated.
    app.state.webhook_intake = Intake(Limits.of(settings))
    # One-click setup's token (None when setup is closed), printed when the lifespan starts.
    app.state.setup_gate = SetupGate(settings)
    app.include_router(webhooks.router)
    app.include_router(health.router)
    app.include_router(home.router)
    app.include_router(setup.router)
    return app
