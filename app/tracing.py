"""Optional OpenTelemetry tracing: off unless an OTLP endpoint is configured and the `otel`
extra is installed (`pip install 'backend-review[otel]'`).

When off, nothing of OpenTelemetry is imported and `span()` costs a function call. When on,
spans go to our own TracerProvider (not the process-global one) and out through the OTLP/HTTP
exporter, which reads the standard OTEL_EXPORTER_OTLP_* variables itself (headers, protocol).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.settings import Settings

log = logging.getLogger(__name__)

_tracer: Any = None  # an opentelemetry Tracer once set up; None: tracing is off


def setup_tracing(settings: Settings, *, exporter: Any = None) -> bool:
    """Turn tracing on when an endpoint is set (or an exporter given, for tests)."""
    global _tracer
    if exporter is None and not settings.otel_endpoint:
        return False
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
            "pip install 'backend-review[otel]'; tracing stays off"
        )
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            log.warning("the OTLP exporter is not installed: pip install 'backend-review[otel]'")
            return False
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    _tracer = provider.get_tracer("backend-review")
    log.info("tracing on: spans for jobs and review steps go to %s", settings.otel_endpoint)
    return True


def stop_tracing() -> None:
    global _tracer
    _tracer = None


@contextmanager
def span(name: str, **attributes: str | int | bool) -> Iterator[None]:
    """A span around the block when tracing is on; nothing otherwise."""
    if _tracer is None:
        yield
        return
    with _tracer.start_as_current_span(name, attributes=attributes):
        yield
