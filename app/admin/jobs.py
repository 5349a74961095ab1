"""`backend-review jobs list | retry | cancel`: the job queue by hand."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from app.admin.common import (
    Subparsers,
    command,
    database,
    one_line,
    positive_int,
    run,
    table,
    when,
)
from app.settings import Settings, load_settings
from app.store.facade import Store
from app.store.job_admin import (
    CANCELLED_ERROR,
    Change,
    JobRow,
)
from app.store.jobs import JobStatus, utcnow

_ERROR_WIDTH = 70


class Action(Protocol):
    def __call__(
        self, store: Store, ids: Sequence[int], /, *, now: datetime
    ) -> Awaitable[list[Change]]: ...


def register(sub: Subparsers) -> None:
    jobs = sub.add_parser("jobs", help="list, retry or cancel jobs")
    actions = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="the newest jobs first")
    listing.add_argument("--status", choices=[s.value for s in JobStatus])
    listing.add_argument("--kind", help="review, command, closed, rerun, merge_group, ...")
    listing.add_argument("--limit", type=positive_int, default=50, metavar="N")
    listing.set_defaults(func=cmd_list)

    retry = actions.add_parser("retry", help="put dead or done jobs back in the queue, due now")
    retry.add_argument("ids", nargs="+", type=positive_int, metavar="ID")
    retry.set_defaults(func=cmd_retry)

    cancel = actions.add_parser("cancel", help="take queued jobs out of the queue")
    cancel.add_argument("ids", nargs="+", type=positive_int, metavar="ID")
    cancel.set_defaults(func=cmd_cancel)


@command
def cmd_list(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def work() -> list[JobRow]:
        async with database(settings) as store:
            return await store.list_jobs(status=args.status, kind=args.kind, limit=args.limit)

    found = run(work())
    if not found:
        print("no jobs" + (" matching" if args.status or args.kind else ""))
        return 0
    rows = [
        [
            str(job.id),
            job.kind,
            job.status,
            f"{job.attempts}/{job.max_attempts}",
            subject(job.payload),
            when(job.created_at),
            one_line(job.last_error, _ERROR_WIDTH) or "-",
        ]
        for job in found
    ]
    print(table(["id", "kind", "status", "tries", "subject", "created (UTC)", "last error"], rows))
    return 0


def subject(payload: dict[str, Any]) -> str:
    """What a job is about: `owner/name#7`, `owner/name@abc1234`, `installation 42`."""
    repository = payload.get("repository")
    if isinstance(repository, str):
        if isinstance(payload.get("number"), int):
            return f"{repository}#{payload['number']}"
        sha = payload.get("head_sha")
        return f"{repository}@{sha[:7]}" if isinstance(sha, str) else repository
    installation = payload.get("installation_id")
    return f"installation {installation}" if installation is not None else "-"


@command
def cmd_retry(args: argparse.Namespace) -> int:
    changes = _apply(load_settings(), Store.retry_jobs, args.ids)
    return _report(
        changes,
        lambda c: f"{c.before} -> queued (attempts reset, due now)",
        _why_not_retried,
    )


def _why_not_retried(before: str | None) -> str:
    if before is None:
        return "not found"
    if before == JobStatus.RUNNING:
        return "running: refused, a worker has it now; retry it once it is done or dead"
    if before == JobStatus.QUEUED:
        return "already queued: left as it is"
    return f"{before}: not retried (only dead or done jobs are)"


@command
def cmd_cancel(args: argparse.Namespace) -> int:
    changes = _apply(load_settings(), Store.cancel_jobs, args.ids)
    return _report(
        changes, lambda c: f"queued -> superseded ({CANCELLED_ERROR})", _why_not_cancelled
    )


def _report(
    changes: Sequence[Change],
    done: Callable[[Change], str],
    why_not: Callable[[str | None], str],
) -> int:
    """One line per job; exit 1 if any was refused."""
    for change in changes:
        changed = change.after is not None
        print(f"job {change.id}: {done(change) if changed else why_not(change.before)}")
    return 0 if all(c.after is not None for c in changes) else 1


def _why_not_cancelled(before: str | None) -> str:
    if before is None:
        return "not found"
    if before == JobStatus.RUNNING:
        return (
            "running: refused, a running job cannot be cancelled safely; it finishes or "
            "fails on its own"
        )
    return f"{before}: nothing to cancel (only queued jobs can be)"


def _apply(settings: Settings, action: Action, ids: Sequence[int]) -> list[Change]:
    async def work() -> list[Change]:
        async with database(settings) as store:
            return await action(store, ids, now=utcnow())

    return run(work())
