"""Reading a webhook body before it is authenticated, with bounded memory, disk and time.

Until its signature checks out, a body is anyone's: the route checks the headers first (no body
is read for a malformed or missing signature, event or delivery id), then `Intake.read` takes
the body chunk by chunk, feeding the HMAC as it goes, and

- refuses a declared length over 25 MiB (413) before reading a byte, and cuts off a streamed
  body at that size;
- counts the bytes of unverified bodies held across all requests against two budgets: bodies
  declared up to `MEMORY_BODY_BYTES` (every real delivery but a few) stay in memory and draw on
  `Settings.intake_memory_bytes`; larger or undeclared ones go to an unlinked temporary file
  (TMPDIR, written in `DISK_WRITE_BYTES` pieces) and draw on `Settings.intake_disk_bytes`.
  A body that would go over its budget is answered 503 with `Retry-After`, so a flood of large
  posts cannot starve the small deliveries GitHub actually sends, nor grow the process;
- gives a sender `Settings.intake_read_seconds` for the whole body, then answers 408.

Budgets count bytes actually received, not bytes declared: a sender that declares a body and
sends nothing holds nothing. Every refusal before the body is complete closes the connection,
so the rest of the body is not read either.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from typing import IO

from starlette.requests import Request

from app.errors import WebhookError
from app.github.webhooks import Signature
from app.settings import Settings

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub's own cap on a payload
MEMORY_BODY_BYTES = 1024 * 1024
# A body on disk is written in pieces of this size: one thread hop per piece, not per chunk the
# server happened to receive, and at most this much of it in memory.
DISK_WRITE_BYTES = 256 * 1024
RETRY_AFTER_SECONDS = 5


class Busy(WebhookError):
    """Too many unverified bytes in flight: come back later (503 with Retry-After)."""

    def __init__(self, reason: str) -> None:
        super().__init__(503, reason)


class Budget:
    """Bytes held at once by unverified bodies of one kind, across all requests.

    The event loop is the only caller, so a plain counter is enough.
    """

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self.used = 0

    def fits(self, size: int) -> bool:
        return self.used + size <= self.limit

    def take(self, size: int) -> None:
        if not self.fits(size):
            raise Busy(f"too many unverified webhook bytes in {self.name}; retry later")
        self.used += size

    def give_back(self, size: int) -> None:
        self.used -= size


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    disk_bytes: int
    read_seconds: float
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            memory_bytes=settings.intake_memory_bytes,
            disk_bytes=settings.intake_disk_bytes,
            read_seconds=settings.intake_read_seconds,
        )


class _Spool:
    """Where one body's bytes go while it is read: memory, or an unlinked temporary file.

    `held` is what the body counts against its budget: the bytes received so far, or for a
    body on disk its whole declared length from the start, so that a large body, once begun,
    is never cut off halfway by others filling the budget.
    """

    def __init__(self, budget: Budget, on_disk: bool, reserve: int) -> None:
        budget.take(reserve)
        self.budget = budget
        self.held = reserve
        self.size = 0
        self._memory = bytearray()
        # Unlinked at once: the bytes go when the file is closed, even if the process dies.
        self._file: IO[bytes] | None = tempfile.TemporaryFile() if on_disk else None  # noqa: SIM115

    async def write(self, chunk: bytes) -> None:
        extra = self.size + len(chunk) - self.held
        if extra > 0:
            self.budget.take(extra)
            self.held += extra
        self.size += len(chunk)
        self._memory += chunk
        if self._file is not None and len(self._memory) >= DISK_WRITE_BYTES:
            await self._flush(self._file)

    async def _flush(self, file: IO[bytes]) -> None:
        piece, self._memory = bytes(self._memory), bytearray()
        # Off the loop: a disk that stalls must not stall every other request.
        await asyncio.to_thread(file.write, piece)

    async def read(self) -> bytes:
        if self._file is None:
            return bytes(self._memory)
        file = self._file
        await self._flush(file)
        file.seek(0)
        return await asyncio.to_thread(file.read)

    def close(self) -> None:
        self.budget.give_back(self.held)
        self.held = self.size = 0
        self._memory = bytearray()
        if self._file is not None:
            self._file.close()


class Intake:
    """The budgets of one process, shared by every webhook request it serves."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.memory = Budget("memory", limits.memory_bytes)
        self.disk = Budget("temporary files", limits.disk_bytes)

    async def read(self, request: Request, signature: Signature) -> bytes:
        """The body once its signature checks out, or WebhookError (400, 401, 408, 413, 503).

        ClientDisconnect passes through: there is no one left to answer.
        """
        declared = _declared_length(request, self.limits.max_body_bytes)
        small = declared is not None and declared <= MEMORY_BODY_BYTES
        budget = self.memory if small else self.disk
        if not budget.fits(declared or 0):
            raise Busy(f"too many unverified webhook bytes in {budget.name}; retry later")
        spool = _Spool(budget, on_disk=not small, reserve=0 if small else declared or 0)
        try:
            try:
                async with asyncio.timeout(self.limits.read_seconds):
                    await self._stream(request, signature, spool)
            except TimeoutError:
                raise WebhookError(408, "the body took too long to arrive") from None
            if declared is not None and spool.size != declared:
                raise WebhookError(400, "body shorter than its Content-Length")
            signature.check()
            return await spool.read()
        finally:
            spool.close()

    async def _stream(self, request: Request, signature: Signature, spool: _Spool) -> None:
        limit = self.limits.max_body_bytes
        async for chunk in request.stream():
            # A declared length was checked before; this cuts off undeclared (chunked) bodies.
            if spool.size + len(chunk) > limit:
                raise WebhookError(413, f"body over {limit} bytes")
            signature.update(chunk)
            await spool.write(chunk)


def _declared_length(request: Request, limit: int) -> int | None:
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not (declared.isascii() and declared.isdigit()) or len(declared) > 12:
        raise WebhookError(400, "Content-Length is not a number")
    size = int(declared)
    if size > limit:
        raise WebhookError(413, f"body over {limit} bytes")
    return size


def intake_of(request: Request) -> Intake:
    """The app's Intake (`create_app` puts one on `app.state`)."""
    found: Intake = request.app.state.webhook_intake
    return found
