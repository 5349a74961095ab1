"""The `backend-review` command (`python -m app` in this repository only: in another, `app` may be
its own package). Thin: parse, build settings, delegate.

Exit codes: 0 success, 1 the check would fail (review), 2 usage, configuration or input error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from app import __version__
from app.errors import BackendReviewError, ConfigError
from app.settings import Settings, load_settings

log = logging.getLogger("app")

Command = Callable[[argparse.Namespace], int]
# `scheme://user:password@`: the user stays, the password goes.
_URL_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^/\s]*@")  # up to the last @ of the authority


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
    from app import runtime
    from app.cli import startup
    from app.web.app import create_app
    from app.web.server import with_header_deadline

    settings = _settings(args)
    _setup_logging(settings)
    startup.check_github_key(settings)
    _require_known_model(settings)
    sock = startup.ready(settings)  # the port bound and the database migrated, or one line
    web_app = create_app(settings)
    # Everything start-up imported, out of the garbage collector's full passes (which would
    # otherwise hold the event loop for 0.1 s and more during a review).
    frozen = runtime.freeze_start_up_heap()
    log.debug("%d start-up objects frozen", frozen)
    return startup.serve(
        web_app,
        sock,
        # Headers get the same time as a webhook body (BACKEND_REVIEW_INTAKE_READ_SECONDS).
        http=with_header_deadline(settings.intake_read_seconds),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.drain_seconds) + 5,
    )


def cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _setup_logging(settings)
    settings.private_key_pem()
    _require_known_model(settings)
    asyncio.run(_run_worker(settings))
    return 0


def _require_known_model(settings: Settings) -> None:
    """A model the capability table lacks stops start-up (ConfigError: one line, exit 2)."""
    from app.jobs.llm_config import require_known_model

    require_known_model(settings)


async def _run_worker(settings: Settings) -> None:
    from app import runtime

    # Before any job is in flight: only what the imports left is frozen (see cmd_serve).
    log.debug("%d start-up objects frozen", runtime.freeze_start_up_heap())
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
        # Only `db upgrade` creates a database; `current` and `downgrade` need one there.
        store = Store.open(settings.resolved_database_url, create=args.db_command == "upgrade")
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


class _Parser(argparse.ArgumentParser):
    """A parser that leaves itself in the namespace it fills. Its subcommands' parsers are of
    its class too (argparse makes them so), and the innermost one's value is the one kept: an
    unknown option is then reported with the usage of the command it was given to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_defaults(**{_PARSER: self})


_PARSER = "_parser"


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """`parser.parse_args`, but an unknown option is an error of its subcommand (its usage, one
    line, exit 2), not of `backend-review` as a whole."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        owner: argparse.ArgumentParser = getattr(args, _PARSER, parser)
        owner.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = _Parser(
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
    _register_persona(sub)
    _register_admin(sub)
    return parser


def _register_review(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.cli import review

    review.register(sub)


def _register_persona(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.cli import persona  # persona show

    persona.register(sub)


def _register_admin(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # jobs, deliveries (list, replay, recover), config check, doctor
    from app.admin.commands import register

    register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    func: Command = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, exit 2: 1 means "the check would fail"
        print(f"backend-review: {one_line(exc)}", file=sys.stderr)
        return 2


def one_line(exc: Exception) -> str:
    """What stopped the command, on one line: our own errors as they say it (they name the
    setting or the place, and what to do), anything else with its type."""
    from app.admin.common import no_database_message
    from app.logs import Redactor
    from app.store.opening import NoDatabase

    if isinstance(exc, ConfigError):
        text = f"configuration error: {exc}"
    elif isinstance(exc, NoDatabase):
        text = f"error: {no_database_message(exc.path)}"
    elif isinstance(exc, BackendReviewError):
        text = f"error: {exc}"
    else:
        text = f"error: {type(exc).__name__}: {exc}"
    first_line = (text.strip().splitlines() or [""])[0][:2000]
    # A message may quote a database URL, a token or a key: the password goes, and the log
    # redactor's shapes apply here too.
    first_line = _URL_PASSWORD.sub(r"\1***@", first_line)[:500]
    return Redactor().redact(first_line)
