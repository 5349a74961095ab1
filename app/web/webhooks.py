"""POST /webhooks/github: headers → body (bounded, signed) → JSON → route → store → answer.

The headers are checked before a byte of the body is read (a missing secret, a malformed
signature, event or delivery id costs the sender nothing to be told); the body is read and
authenticated by app.web.intake within bounded memory, disk and time. Nothing is written unless
every check passed; the answer says which one failed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic_core import from_json
from starlette.requests import ClientDisconnect

from app.errors import StoreError, WebhookError
from app.github.webhooks import Signature
from app.jobs.routing import route
from app.logs import log_context
from app.metrics import event_label
from app.store.deliveries import NewDelivery, Outcome
from app.web.intake import MAX_BODY_BYTES, RETRY_AFTER_SECONDS, Busy, intake_of
from app.web.services import services

log = logging.getLogger(__name__)
router = APIRouter()

__all__ = ["MAX_BODY_BYTES", "receive", "router"]

_DELIVERY_ID = re.compile(r"^[A-Za-z0-9\-]{1,64}$")
_EVENT = re.compile(r"^[a-z_]{1,64}$")


def _header(request: Request, name: str, pattern: re.Pattern[str]) -> str:
    value = request.headers.get(name)
    if value is None:
        raise WebhookError(400, f"missing {name} header")
    if not pattern.match(value):
        raise WebhookError(400, f"malformed {name} header")
    return value


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        # pydantic-core's parser: strict JSON, and about twice as fast as json.loads here.
        payload = from_json(body)
    except ValueError:
        raise WebhookError(400, "body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise WebhookError(400, "body is not a JSON object")
    return payload


def _get(payload: dict[str, Any], key: str, field: str) -> Any:
    value = payload.get(key)
    return value.get(field) if isinstance(value, dict) else None


async def receive(request: Request) -> JSONResponse:
    started = time.perf_counter()
    svc = services(request)
    event: str | None = None
    verified = False
    try:
        secret = svc.settings.github_webhook_secret
        signature = Signature(
            secret.get_secret_value() if secret else "",
            request.headers.get("x-hub-signature-256"),
        )
        delivery_id = _header(request, "x-github-delivery", _DELIVERY_ID)
        event = _header(request, "x-github-event", _EVENT)
        body = await intake_of(request).read(request, signature)
        verified = True
        with log_context(delivery_id=delivery_id):
            payload = _json_object(body)
            new_jobs = route(event, payload)
            installation = _get(payload, "installation", "id")
            repository = _get(payload, "repository", "full_name")
            action = payload.get("action")
            delivery = NewDelivery(
                id=delivery_id,
                event=event,
                action=action if isinstance(action, str) else None,
                installation_id=installation if isinstance(installation, int) else None,
                repository=repository if isinstance(repository, str) else None,
                jobs=new_jobs,
                body_sha256=hashlib.sha256(body).digest(),
            )
            outcome = await svc.writer.submit(delivery)
            if outcome is Outcome.REPLAYED:
                log.warning(
                    "delivery %s %s carries the signed body of another delivery already "
                    "stored: a replay, not stored",
                    event,
                    delivery.action or "-",
                )
            else:
                log.info("delivery %s %s: %s", event, delivery.action or "-", outcome.value)
    except WebhookError as exc:
        label = event_label(event) if verified else "unverified"
        svc.metrics.deliveries.labels(event=label, outcome=str(exc.status)).inc()
        log.warning("webhook refused (%d): %s", exc.status, exc.reason)
        return _refusal(exc, body_read=verified)
    except ClientDisconnect:
        svc.metrics.deliveries.labels(event="unverified", outcome="disconnected").inc()
        log.warning("webhook sender went away before the body was complete")
        return _refusal(WebhookError(400, "the body was cut short"), body_read=False)
    except StoreError:
        svc.metrics.deliveries.labels(event=event_label(event), outcome="503").inc()
        return JSONResponse({"error": "could not store the delivery; retry"}, status_code=503)
    finally:
        svc.metrics.webhook_seconds.observe(time.perf_counter() - started)
    svc.metrics.deliveries.labels(event=event_label(event), outcome=outcome.value).inc()
    # A replay is answered as a duplicate is: nothing new, and nothing for its sender to retry.
    status = 200 if outcome in (Outcome.DUPLICATE, Outcome.REPLAYED) else 202
    return JSONResponse({"delivery": delivery_id, "outcome": outcome.value}, status_code=status)


def _refusal(exc: WebhookError, *, body_read: bool) -> JSONResponse:
    headers: dict[str, str] = {}
    if not body_read:
        # What is left of the body is not worth reading: close rather than drain it.
        headers["Connection"] = "close"
    if isinstance(exc, Busy):
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return JSONResponse({"error": exc.reason}, status_code=exc.status, headers=headers)


# A plain Starlette route: the endpoint takes the Request and returns its own responses, so
# FastAPI's dependency solving and response handling per request would buy nothing.
router.add_route("/webhooks/github", receive, methods=["POST"])
