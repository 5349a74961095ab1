"""The `backend-review` command (also `python -m app`). Thin: parse, build settings, delegate.

Exit codes: 0 success, 1 the check would fail (review), 2 usage, configuration or input error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Sequence

from app import __version__
from app.errors import ConfigError
from app.settings import Settings, load_settings

log = logging.getLogger("app")

Command = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "host", None) is not None:
        overrides["host"] = args.host
    if getattr(args, "port", None) is not None:
        overrides["port"] = args.port
    if getattr(args, "webhook_proxy", None) is not None:
        overrides["webhook_proxy_url"] = args.webhook_proxy
    return load_settings(**overrides)


def _setup_logging(settings: Settings) -> None:
    from app.logs import setup_logging

    setup_logging(
        fmt=settings.log_format, level=settings.log_level, secrets=settings.secret_values()
    )
    from app.tracing import setup_tracing

    setup_tracing(settings)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.web.app import create_app
    from app.web.server import with_header_deadline

    settings = _settings(args)
    _setup_logging(settings)
    settings.private_key_pem()  # a key file that cannot be read stops start-up, here
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        # Headers get the same time as a webhook body (BACKEND_REVIEW_INTAKE_READ_SECONDS).
        http=with_header_deadline(settings.intake_read_seconds),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.drain_seconds) + 5,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _setup_logging(settings)
    settings.private_key_pem()
    asyncio.run(_run_worker(settings))
    return 0


async def _run_worker(settings: Settings) -> None:
    from app import runtime

    parts = await runtime.start(settings, slots=max(1, settings.worker_concurrency), intake=False)
    try:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("draining: no new jobs, waiting up to %.0fs", settings.drain_seconds)
    finally:
        await parts.stop()


def cmd_db(args: argparse.Namespace) -> int:
    from app.store import migrate
    from app.store.facade import Store

    settings = _settings(args)

    async def run() -> str | None:
        store = Store.open(settings.resolved_database_url)
        try:
            if args.db_command == "upgrade":
                await store.upgrade(args.revision)
            elif args.db_command == "downgrade":
                await store.downgrade(args.revision)
            return await store.revision()
        finally:
            await store.close()

    revision = asyncio.run(run())
    print(f"database at revision {revision or 'base (empty)'} (head is {migrate.head_revision()})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backend-review", description="Pull-request review as a senior backend engineer."
    )
    parser.add_argument("--version", action="version", version=f"backend-review {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the web app and a worker in one process")
    serve.add_argument("--host", help="bind address (default 127.0.0.1, or BACKEND_REVIEW_HOST)")
    serve.add_argument("--port", type=int, help="port (default 8000, or BACKEND_REVIEW_PORT)")
    serve.add_argument(
        "--webhook-proxy",
        metavar="URL",
        help="take webhooks from this smee.io channel (or BACKEND_REVIEW_WEBHOOK_PROXY_URL)",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run workers only (replicas sharing one database)")
    worker.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="migrate to the newest schema (or REVISION)")
    up.add_argument("revision", nargs="?", default="head")
    down = db_sub.add_parser("downgrade", help="migrate back to REVISION (e.g. base, -1)")
    down.add_argument("revision")
    db_sub.add_parser("current", help="print the database's revision")
    db.set_defaults(func=cmd_db, revision="head")

    _register_review(sub)
    _register_admin(sub)
    return parser


def _register_review(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.cli import review

    review.register(sub)


def _register_admin(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # jobs, deliveries (list, replay, recover), config check, doctor
    from app.admin.commands import register

    register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Command = args.func
    try:
        return func(args)
    except ConfigError as exc:
        print(f"backend-review: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, exit 2: 1 means "the check would fail"
        from app.logs import Redactor

        first_line = (str(exc).strip().splitlines() or [""])[0][:300]
        # A library's message may quote a token or key; the log redactor's shapes apply here too.
        shown = Redactor().redact(first_line)
        print(f"backend-review: error: {type(exc).__name__}: {shown}", file=sys.stderr)
        return 2
