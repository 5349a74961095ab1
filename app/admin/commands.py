"""Every admin command, registered on the `backend-review` parser (see the package docstring)."""

from __future__ import annotations

from app.admin import config_check, deliveries, doctor, jobs
from app.admin.common import Subparsers


def register(sub: Subparsers) -> None:
    jobs.register(sub)
    deliveries.register(sub)
    config_check.register(sub)
    doctor.register(sub)
