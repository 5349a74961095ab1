"""`backend-review deliveries list | replay | recover`: what GitHub sent us, and what it could not.

`replay` queues a stored delivery's jobs again from their stored payloads (the webhook body is
not stored; the jobs made from it are). It cannot go through GitHub: a redelivery of a guid we
stored is dropped as a duplicate. `recover` is for what we never stored (app.jobs.recovery).
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import timedelta

from app.admin.common import (
    AdminError,
    Subparsers,
    command,
    database,
    duration,
    positive_int,
    run,
    show_duration,
    table,
    when,
)
from app.github.client import GitHubApp
from app.github.deliveries import AppHooks
from app.github.types import GitHubError
from app.jobs.recovery import DEFAULT_LIMIT, MAX_WINDOW, RecoveryResult, recover
from app.runtime import github_credentials
from app.settings import load_settings
from app.store.deliveries import StoredDelivery
from app.store.jobs import utcnow


def register(sub: Subparsers) -> None:
    deliveries = sub.add_parser("deliveries", help="stored deliveries; recover missed ones")
    actions = deliveries.add_subparsers(dest="deliveries_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="stored deliveries, the newest first")
    listing.add_argument("--limit", type=positive_int, default=50, metavar="N")
    listing.add_argument("--event", metavar="E", help="only this event, e.g. pull_request")
    listing.set_defaults(func=cmd_list)

    replay = actions.add_parser(
        "replay", help="queue the jobs of a stored delivery again (from their stored payloads)"
    )
    replay.add_argument("id", metavar="ID", help="the delivery id (X-GitHub-Delivery)")
    replay.set_defaults(func=cmd_replay)

    recover_ = actions.add_parser(
        "recover",
        help="ask GitHub to redeliver what failed to reach us and was never stored",
    )
    recover_.add_argument(
        "--since",
        type=duration,
        default=timedelta(hours=24),
        metavar="AGE",
        help="how far back: 30m, 24h (default), 3d (GitHub keeps 3 days)",
    )
    recover_.add_argument(
        "--limit",
        type=positive_int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"redeliveries to ask for at most (default {DEFAULT_LIMIT})",
    )
    recover_.add_argument(
        "--dry-run", action="store_true", help="say what would be redelivered, ask for nothing"
    )
    recover_.set_defaults(func=cmd_recover)


@command
def cmd_list(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def work() -> list[StoredDelivery]:
        async with database(settings) as store:
            return await store.list_deliveries(limit=args.limit, event=args.event)

    found = run(work())
    if not found:
        print("no deliveries stored" + (f" for {args.event}" if args.event else ""))
        return 0
    rows = [
        [
            d.id,
            when(d.received_at),
            f"{d.event}.{d.action}" if d.action else d.event,
            d.repository or "-",
            d.outcome,
            str(d.jobs),
        ]
        for d in found
    ]
    print(table(["id", "received (UTC)", "event", "repository", "outcome", "jobs"], rows))
    return 0


@command
def cmd_replay(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def work() -> tuple[StoredDelivery | None, list[int] | None]:
        async with database(settings) as store:
            stored = await store.get_delivery(args.id)
            if stored is None:
                return None, None
            created = await store.replay_delivery(
                args.id, now=utcnow(), max_attempts=settings.job_max_attempts
            )
            return stored, created

    stored, created = run(work())
    if stored is None or created is None:
        raise AdminError(
            f"delivery {args.id} is not stored; for one that never reached us, "
            "use `backend-review deliveries recover`",
            code=1,
        )
    name = f"{stored.event}.{stored.action}" if stored.action else stored.event
    if not created:
        print(f"delivery {args.id} ({name}, {stored.outcome}) created no jobs: nothing to replay")
        return 0
    jobs = ", ".join(f"job {i}" for i in created)
    print(f"delivery {args.id} ({name}): queued again as {jobs}")
    return 0


@command
def cmd_recover(args: argparse.Namespace) -> int:
    settings = load_settings()
    missing = settings.missing_github_app()
    if missing:
        raise AdminError(f"the GitHub App is not configured: set {', '.join(missing)}")
    window: timedelta = args.since
    if window > MAX_WINDOW:
        print(
            f"note: GitHub keeps deliveries for {show_duration(MAX_WINDOW)}; "
            f"looking back {show_duration(MAX_WINDOW)}",
            file=sys.stderr,
        )

    def say(level: int, line: str) -> None:
        print(line, file=sys.stderr if level >= logging.WARNING else sys.stdout)

    async def work() -> RecoveryResult:
        async with database(settings) as store, GitHubApp(github_credentials(settings)) as github:
            return await recover(
                AppHooks(github),
                store,
                window=window,
                now=utcnow(),
                limit=args.limit,
                dry_run=args.dry_run,
                say=say,
            )

    try:
        result = run(work())
    except GitHubError as exc:
        raise AdminError(f"GitHub: {exc.reason}") from None
    return 1 if result.refused else 0
