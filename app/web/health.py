"""Probes and metrics: /healthz (alive), /readyz (database reachable and migrated), /metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.store.migrate import known_revisions
from app.web.services import services

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    svc = services(request)
    try:
        revision = await svc.store.revision()
    except Exception as exc:  # noqa: BLE001 - any failure here means "not ready"
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        return JSONResponse({"status": "database unreachable"}, status_code=503)
    if revision is not None and revision not in known_revisions():
        # A newer release migrated during a rolling update. Migrations only add (expand, then
        # contract a release later), so this code still works; dropping out of the Service
        # would lose webhooks, which GitHub does not retry.
        return JSONResponse({"status": "ready", "revision": revision, "note": "database ahead"})
    if revision != svc.head_revision:
        return JSONResponse(
            {
                "status": "database not migrated",
                "revision": revision,
                "expected": svc.head_revision,
            },
            status_code=503,
        )
    return JSONResponse({"status": "ready", "revision": revision})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    svc = services(request)
    try:
        svc.metrics.set_job_counts(await svc.queue.counts())
    except Exception as exc:  # noqa: BLE001 - serve the in-process metrics anyway
        log.warning("metrics: could not count jobs: %s", type(exc).__name__)
    return Response(svc.metrics.render(), media_type=CONTENT_TYPE_LATEST)
