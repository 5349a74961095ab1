"""What `serve` settles before it takes a request, so that a start-up failure is one line.

In order: the address is bound (a port in use is a configuration error naming the setting),
the database is created and migrated (a folder that cannot be made, a file that cannot be
opened or a server that cannot be reached is a StoreError saying where), and only then does
uvicorn start, on that socket. Anything that still fails while the app starts (its lifespan)
is raised here as itself, for `app.cli.main` to print as one line, instead of the traceback
uvicorn would log and its exit code 3.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import uvicorn
import uvicorn.server
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import BackendReviewError, ConfigError
from app.github.client import check_key
from app.runtime import github_credentials
from app.settings import Settings
from app.store.facade import Store

log = logging.getLogger(__name__)


def check_github_key(settings: Settings) -> None:
    """A key that is set but unreadable, or that cannot sign, stops start-up before anything
    else is touched (ConfigError naming the setting)."""
    settings.private_key_pem()
    if not settings.missing_github_app():
        check_key(github_credentials(settings))


def ready(settings: Settings) -> socket.socket:
    """The bound socket, once the database is ready; ConfigError or StoreError otherwise."""
    sock = listen(settings.host, settings.port)
    try:
        asyncio.run(prepare_database(settings))
    except BaseException:
        sock.close()
        raise
    return sock


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` (uvicorn listens on it), or ConfigError saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As uvicorn does: a restart may bind while the last run's connections linger.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(*_bind_problem(host, port, exc)) from None
    return sock


def _bind_problem(host: str, port: int, exc: OSError) -> tuple[str, str]:
    """The setting to change, and why."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return "BACKEND_REVIEW_PORT", (
            f"{where} is already in use (another server is running there): stop it, or choose "
            "another port with --port or BACKEND_REVIEW_PORT"
        )
    if exc.errno == errno.EACCES:
        return "BACKEND_REVIEW_PORT", f"not allowed to listen on {where}: choose a port above 1023"
    reason = exc.strerror or type(exc).__name__
    return "BACKEND_REVIEW_HOST", (
        f"cannot listen on {where} ({reason}): use an address of this machine, e.g. 127.0.0.1 "
        "or 0.0.0.0 (--host or BACKEND_REVIEW_HOST)"
    )


async def prepare_database(settings: Settings) -> None:
    """Create and migrate the database now, so that its problems stop `serve` on one line
    before the server starts (the app's own start then finds it at the newest revision)."""
    store = Store.open(settings.resolved_database_url)
    try:
        await store.upgrade()
    finally:
        await store.close()


class _StartupFailure:
    """The app, with the exception that stopped its start kept here instead of in uvicorn's
    log (uvicorn would log its traceback and exit 3)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.started = False
        self.error: BaseException | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def without_traceback(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                message = {**message, "message": ""}
            elif message["type"] == "lifespan.startup.complete":
                self.started = True
            await send(message)

        try:
            await self.app(scope, receive, without_traceback)
        except BaseException as exc:
            if not self.started:
                self.error = exc
            raise


class _Server(uvicorn.Server):
    """uvicorn's server, saying where it listens once the app has started (uvicorn does not
    when it is handed its socket), and ending as `worker` does once a signal stopped it."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        for sock in sockets or []:
            host, port = sock.getsockname()[:2]
            log.info("listening on http://%s:%d", f"[{host}]" if ":" in host else host, port)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's own handlers (a graceful shutdown, then the drain), without raising the
        signal again afterwards: uvicorn does, so a SIGTERM that stopped the server cleanly
        ended the process as killed by it (143), where `worker` exits 0. Ctrl-C is raised
        again, as uvicorn does: KeyboardInterrupt, exit 130."""
        if threading.current_thread() is not threading.main_thread():
            yield  # signals are only for the main thread, as in uvicorn
            return
        caught: list[int] = []

        def handle(sig: int, frame: FrameType | None) -> None:
            caught.append(sig)
            self.handle_exit(sig, frame)

        previous = {sig: signal.signal(sig, handle) for sig in uvicorn.server.HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if signal.SIGINT in caught:
            signal.raise_signal(signal.SIGINT)  # its own handler again: KeyboardInterrupt


def serve(app: ASGIApp, sock: socket.socket, **options: Any) -> int:
    """Run uvicorn with `options` on the bound `sock` until it stops: 0, or the exception that
    stopped the app from starting, raised."""
    guarded = _StartupFailure(app)
    server = _Server(uvicorn.Config(guarded, **options))
    try:
        server.run(sockets=[sock])
    except SystemExit:  # uvicorn's way out when the app did not start
        if guarded.error is None:
            raise BackendReviewError("the server did not start: the log above says why") from None
    finally:
        sock.close()
    if guarded.error is not None:
        raise guarded.error
    return 0
