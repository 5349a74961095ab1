"""The composition root: the one place a process's parts are built from the settings and wired.

`backend-review serve` (the web app's lifespan) and `backend-review worker` both start a
`Runtime` and stop it; nothing else constructs the store, the queue, the jobs' context or the
worker. What a process runs:

    store (migrated) ─► queue ─► worker (slots > 0) ─► handlers ─► jobs' context (GitHub, Linear,
    model) ─► intake's delivery writer (serve only) ─► recovery of missed deliveries (serve only)
    ─► the webhook channel's forwarder (serve with BACKEND_REVIEW_WEBHOOK_PROXY_URL only)

Stopping reverses it: the forwarder stopped, recovery cancelled, accepted deliveries committed,
the worker drained, the clients closed, the store closed (unless it was handed in).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from app.errors import ConfigError
from app.github.client import AppCredentials, GitHubApp
from app.github.manifest_flow import WEBHOOK_PATH
from app.jobs.context import JobContext, build_context
from app.jobs.handlers import JobHandler, build_dead_handlers, build_handlers
from app.jobs.recovery import recover_on_start
from app.jobs.worker import Worker
from app.metrics import Metrics
from app.settings import Settings
from app.store.deliveries import DeliveryWriter
from app.store.facade import Store
from app.store.jobs import Clock, JobQueue, utcnow
from app.webhook_proxy import Forwarder, ProxyConfig

log = logging.getLogger(__name__)


def github_credentials(settings: Settings) -> AppCredentials:
    """The App's id, key and API from the settings; ConfigError naming what is missing."""
    if settings.github_app_id is None:
        raise ConfigError("GITHUB_APP_ID", "is not set")
    pem = settings.private_key_pem()
    if pem is None:
        raise ConfigError("GITHUB_PRIVATE_KEY", "is not set (or GITHUB_PRIVATE_KEY_PATH)")
    key_setting = (
        "GITHUB_PRIVATE_KEY_PATH" if settings.github_private_key_path else "GITHUB_PRIVATE_KEY"
    )
    return AppCredentials(settings.github_app_id, pem, str(settings.github_api_url), key_setting)


def own_webhook_url(settings: Settings) -> str:
    """Where this server takes webhooks, as a process on the same machine reaches it."""
    host = settings.host
    if host in ("0.0.0.0", "", "::"):  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}{WEBHOOK_PATH}"


def freeze_start_up_heap() -> int:
    """Collect once, then move every object alive now into the collector's permanent
    generation; returns how many were moved. For `serve` and `worker`, once their imports are
    done.

    Why: the imports (the Anthropic SDK's types alone are some 2,600 modules) leave about
    250,000 objects that live as long as the process. A full collection walks them all, on
    whichever thread allocated last and with the GIL held: 0.1-0.15 s during which the event
    loop answers nothing. Unpickling a large parsed diff from the CPU pool triggered one per
    large review. Frozen, they are never walked again; what a review allocates is collected
    as before. Cost: a cycle among these start-up objects that later becomes garbage is never
    freed (start-up state is meant to live as long as the process anyway)."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class Runtime:
    settings: Settings
    store: Store
    metrics: Metrics
    queue: JobQueue
    context: JobContext | None  # None while no GitHub App is configured
    worker: Worker | None  # None when the process runs no worker slots
    writer: DeliveryWriter | None  # the webhook intake's (serve only)
    _owns_store: bool
    _recovery: asyncio.Task[None] | None = None
    forwarder: Forwarder | None = None  # serve with a webhook channel only

    def wake(self) -> None:
        """A job was queued in this process: tell this process's worker, if it runs one."""
        if self.worker is not None:
            self.worker.wake()

    async def stop(self) -> None:
        if self.forwarder is not None:
            await self.forwarder.stop()
        if self._recovery is not None:
            self._recovery.cancel()
            await asyncio.gather(self._recovery, return_exceptions=True)
        # Uvicorn has stopped taking requests by now: store what was accepted, then drain.
        if self.writer is not None:
            await self.writer.stop()
        if self.worker is not None:
            await self.worker.stop()
        if self.context is not None:
            await self.context.aclose()
        if self._owns_store:
            await self.store.close()


async def start(
    settings: Settings,
    *,
    slots: int,
    intake: bool,
    store: Store | None = None,
    clock: Clock = utcnow,
    handlers: Mapping[str, JobHandler] | None = None,
) -> Runtime:
    """Build and start a process's parts.

    `slots`: worker slots (0: no worker). `intake`: this process takes webhooks (a delivery
    writer, and recovery of missed deliveries at start when the settings ask for it).
    `store`: an open store to use (and not close); default: one on the settings' database.
    `handlers`: the job handlers (tests); default: built on the jobs' context.
    """
    owned = store is None
    db = store if store is not None else Store.open(settings.resolved_database_url)
    try:
        await db.upgrade()
    except BaseException:
        if owned:
            await db.close()
        raise
    metrics = Metrics()
    queue = db.queue(
        worker_id=worker_id(),
        lease_seconds=settings.job_lease_seconds,
        max_attempts=settings.job_max_attempts,
        clock=clock,
    )
    runtime = Runtime(
        settings=settings,
        store=db,
        metrics=metrics,
        queue=queue,
        context=None,
        worker=None,
        writer=None,
        _owns_store=owned,
    )
    if slots > 0:
        if handlers is None and not settings.missing_github_app():
            github = GitHubApp(github_credentials(settings), metrics=metrics)
            runtime.context = build_context(
                settings, db, metrics, queue, github=github, wake=runtime.wake
            )
        runtime.worker = Worker(
            queue,
            handlers if handlers is not None else build_handlers(runtime.context),
            concurrency=slots,
            poll_seconds=settings.job_poll_seconds,
            drain_seconds=settings.drain_seconds,
            metrics=metrics,
            on_dead=build_dead_handlers(runtime.context) if handlers is None else None,
        )
    missing = settings.missing_github_app()
    if intake:
        runtime.writer = db.delivery_writer(
            max_attempts=settings.job_max_attempts, clock=clock, on_jobs=runtime.wake
        )
        runtime.writer.start()
        if missing:
            log.warning("not connected to GitHub yet; set %s", ", ".join(missing))
        elif settings.recover_on_start:
            # In the background: readiness does not wait on GitHub.
            runtime._recovery = asyncio.create_task(
                recover_on_start(
                    lambda: github_credentials(settings),
                    db,
                    clock,
                    window=timedelta(hours=settings.recover_since_hours),
                ),
                name="recover-deliveries",
            )
        runtime.forwarder = _forwarder(settings)
    if runtime.worker is not None:
        runtime.worker.start()
    return runtime


def _forwarder(settings: Settings) -> Forwarder | None:
    channel = settings.webhook_proxy_url
    if channel is None:
        return None
    if settings.missing_github_app():
        # Every delivery would be refused for want of a secret: forward once there is one.
        log.warning(
            "webhook channel set, but not forwarding until the GitHub App is configured "
            "(restart after registering it)"
        )
        return None
    forwarder = Forwarder(ProxyConfig(str(channel), own_webhook_url(settings)))
    forwarder.start()
    return forwarder
