"""The FastAPI application: its routes, and a lifespan that starts the process's runtime
(`app.runtime`: store, queue, worker, delivery writer) and stops it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from app import __version__, runtime
from app.jobs.handlers import JobHandler
from app.settings import Settings
from app.store import migrate
from app.store.facade import Store
from app.store.jobs import Clock, utcnow
from app.web import health, home, setup, webhooks
from app.web.intake import Intake, Limits
from app.web.services import Services
from app.web.setup_gate import SetupGate
from app.web.status import StatusCache, probe_github

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock = utcnow,
    handlers: Mapping[str, JobHandler] | None = None,
) -> FastAPI:
    """The web app; with `worker_concurrency` > 0 it runs the worker in the same process.

    `store`: an open store to use and leave open (tests); default: the settings' database."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        parts = await runtime.start(
            settings,
            slots=settings.worker_concurrency,
            intake=True,
            store=store,
            clock=clock,
            handlers=handlers,
        )
        assert parts.writer is not None  # intake=True
        app.state.services = Services(
            settings=settings,
            store=parts.store,
            metrics=parts.metrics,
            writer=parts.writer,
            queue=parts.queue,
            worker=parts.worker,
            head_revision=migrate.head_revision(),
            forwarder=parts.forwarder.status if parts.forwarder is not None else None,
        )
        app.state.setup_gate.announce(settings)  # the setup link, while setup is open
        try:
            yield
        finally:
            await parts.stop()

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
    # What GitHub says of the App, for the home page: asked at most once a minute.
    app.state.github_status = StatusCache(partial(probe_github, settings))
    app.include_router(webhooks.router)
    app.include_router(health.router)
    app.include_router(home.router)
    app.include_router(setup.router)
    return app
