"""Logging: JSON lines for machines, short lines for a terminal, and no secrets in either.

Each record carries the delivery id and job id of the work in progress (context variables
set by the webhook route and the worker). A redaction filter removes every configured secret
value, and anything shaped like a token, signature or private key, before a record is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

delivery_id_var: ContextVar[str | None] = ContextVar("delivery_id", default=None)
job_id_var: ContextVar[int | None] = ContextVar("job_id", default=None)

REDACTED = "[redacted]"
_SHAPES = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"
    r"|sha(?:1|256)=[0-9a-fA-F]{20,}"
    r"|\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"
    r"|\bsk-ant-[A-Za-z0-9_\-]{10,}"
    r"|\blin_api_[A-Za-z0-9]{10,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._\-]{16,}"
    r"|\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}",
    re.DOTALL,
)


class Redactor(logging.Filter):
    """Rewrites each record's message with secrets removed. Never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is removed whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _SHAPES.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
            record.exc_info = None
            record.exc_text = None
        record.msg = self.redact(message)
        record.args = None
        return True


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.delivery_id = delivery_id_var.get()
        record.job_id = job_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("delivery_id", "job_id"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = "".join(
            f" {key}={getattr(record, key)}"
            for key in ("delivery_id", "job_id")
            if getattr(record, key, None) is not None
        )
        ts = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        return f"{ts} {record.levelname:<7} {record.name}:{context} {record.getMessage()}"


def setup_logging(
    *,
    fmt: Literal["auto", "json", "text"],
    level: str,
    secrets: Iterable[str] = (),
    stream: object = None,
) -> Redactor:
    """Send every logger (ours, uvicorn's, the libraries') through one redacting handler."""
    out = stream if stream is not None else sys.stderr
    if fmt == "auto":
        fmt = "text" if getattr(out, "isatty", lambda: False)() else "json"
    handler = logging.StreamHandler(out)  # type: ignore[arg-type]
    redactor = Redactor(secrets)
    handler.addFilter(ContextFilter())
    handler.addFilter(redactor)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # Access lines add nothing the webhook log does not say, at a cost per request.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # Alembic announces its context on every revision check (/readyz); we log migrations ourselves.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # At DEBUG the Anthropic SDK and its HTTP client log whole request bodies (prompts, diffs,
    # PR text); at INFO httpx logs a line per GitHub or Linear request. Neither is ours to say.
    for name in ("anthropic", "httpx2", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return redactor


@contextmanager
def log_context(*, delivery_id: str | None = None, job_id: int | None = None) -> Iterator[None]:
    delivery_token = delivery_id_var.set(delivery_id) if delivery_id is not None else None
    job_token = job_id_var.set(job_id) if job_id is not None else None
    try:
        yield
    finally:
        if job_token is not None:
            job_id_var.reset(job_token)
        if delivery_token is not None:
            delivery_id_var.reset(delivery_token)
