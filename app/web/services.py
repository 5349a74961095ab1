"""What the web app's routes need, built once in the lifespan and kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from app.jobs.worker import Worker
from app.metrics import Metrics
from app.settings import Settings
from app.store.deliveries import DeliveryWriter
from app.store.facade import Store
from app.store.jobs import JobQueue
from app.webhook_proxy import ProxyStatus


@dataclass
class Services:
    settings: Settings
    store: Store
    metrics: Metrics
    writer: DeliveryWriter
    queue: JobQueue
    worker: Worker | None
    head_revision: str
    forwarder: ProxyStatus | None = None  # the webhook channel's, when serve reads one


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
