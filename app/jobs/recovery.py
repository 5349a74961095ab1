"""Recover webhook deliveries GitHub could not make to us (we were down, the secret was being
rotated, a proxy failed): GitHub keeps them for about three days and never retries by itself.

    result = await recover(AppHooks(github), store, window=timedelta(hours=24), now=now)

1. List the App's delivery attempts of the window (newest first; GitHub's own list).
2. Per event (`guid`, shared by an event's attempts and stored by us as the delivery id),
   the newest attempt decides: it succeeded → nothing to do; it failed → a candidate, unless
   we stored the guid anyway (GitHub gave up waiting after we had committed it).
3. Ask GitHub to redeliver each candidate, oldest first (events replay in their order), at
   most `limit` per run. Each asked redelivery is one line; the run ends with a summary line.

Running it again is safe: a guid is asked for at most once per run; a redelivery that arrived
is stored (skipped next time) and shows as the guid's newest, successful attempt; one GitHub
has not made yet is still a failed newest attempt, and would be asked for again, and stored
once at most: our intake drops a guid it has stored (200 duplicate).
`select` is pure; `recover` does the I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.errors import BackendReviewError
from app.github.client import AppCredentials, GitHubApp
from app.github.deliveries import AppHooks, HookDelivery
from app.github.types import GitHubError
from app.store.facade import Store
from app.store.jobs import Clock

log = logging.getLogger(__name__)

MAX_WINDOW = timedelta(days=3)  # GitHub keeps deliveries about this long
DEFAULT_LIMIT = 100  # redeliveries asked per run

# (level, line): what the run says, one line at a time, as it goes.
Say = Callable[[int, str], None]


def _log(level: int, line: str) -> None:
    log.log(level, "%s", line)


@dataclass(frozen=True)
class Selection:
    # The newest failed attempt of each guid to redeliver, oldest first.
    candidates: list[HookDelivery]
    events: int  # distinct guids listed
    stored: int  # failed on GitHub's side but stored by us: nothing to do
    succeeded: int  # the newest attempt succeeded


def select(attempts: Iterable[HookDelivery], stored: Set[str]) -> Selection:
    """What to redeliver: per guid, its newest attempt, when that failed and we never stored
    the guid."""
    newest: dict[str, HookDelivery] = {}
    for attempt in attempts:
        seen = newest.get(attempt.guid)
        if seen is None or (attempt.delivered_at, attempt.id) > (seen.delivered_at, seen.id):
            newest[attempt.guid] = attempt
    candidates = []
    kept = succeeded = 0
    for attempt in newest.values():
        if attempt.succeeded:
            succeeded += 1
        elif attempt.guid in stored:
            kept += 1
        else:
            candidates.append(attempt)
    candidates.sort(key=lambda a: (a.delivered_at, a.id))
    return Selection(candidates, len(newest), kept, succeeded)


@dataclass
class RecoveryResult:
    since: datetime
    listed: int = 0
    events: int = 0
    failed: int = 0  # failed and not stored
    redelivered: list[HookDelivery] = field(default_factory=list)
    refused: list[tuple[HookDelivery, str]] = field(default_factory=list)
    over_limit: int = 0
    stored: int = 0
    succeeded: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        asked = "would redeliver" if self.dry_run else "redelivered"
        return (
            f"recovery since {self.since:%Y-%m-%d %H:%M} UTC: {self.listed} delivery attempts "
            f"of {self.events} events; {self.failed} failed and not stored: "
            f"{asked} {len(self.redelivered)}, refused {len(self.refused)}, "
            f"left for the next run {self.over_limit}; skipped {self.stored} stored despite "
            f"a failed attempt, {self.succeeded} delivered"
        )


def window_start(now: datetime, window: timedelta) -> datetime:
    """The oldest delivery time to look at: `window` back, but never past GitHub's retention."""
    return now - min(window, MAX_WINDOW)


async def recover(
    hooks: AppHooks,
    store: Store,
    *,
    window: timedelta,
    now: datetime,
    limit: int = DEFAULT_LIMIT,
    dry_run: bool = False,
    say: Say = _log,
) -> RecoveryResult:
    """Redeliver what GitHub failed to deliver in the last `window` and we never stored.

    A GitHubError while listing ends the run (raised); one on a single redelivery is reported
    and the run goes on with the next."""
    result = RecoveryResult(since=window_start(now, window), dry_run=dry_run)
    attempts = [a async for a in hooks.deliveries(since=result.since)]
    chosen = select(attempts, await store.stored_delivery_ids({a.guid for a in attempts}))
    result.listed, result.events = len(attempts), chosen.events
    result.failed, result.stored, result.succeeded = (
        len(chosen.candidates),
        chosen.stored,
        chosen.succeeded,
    )
    for attempt in chosen.candidates[:limit]:
        what = _describe(attempt)
        if dry_run:
            result.redelivered.append(attempt)
            say(logging.INFO, f"would redeliver {what}")
            continue
        try:
            await hooks.redeliver(attempt.id)
        except GitHubError as exc:
            result.refused.append((attempt, exc.reason))
            say(logging.WARNING, f"redelivery refused for {what}: {exc.reason}")
            continue
        result.redelivered.append(attempt)
        say(logging.INFO, f"redelivery asked for {what}")
    result.over_limit = max(0, len(chosen.candidates) - limit)
    say(logging.WARNING if result.refused else logging.INFO, result.summary())
    return result


def _describe(attempt: HookDelivery) -> str:
    return (
        f"{attempt.name} guid={attempt.guid} (attempt {attempt.id} at "
        f"{attempt.delivered_at:%Y-%m-%d %H:%M:%S}: {attempt.status_code} {attempt.status})"
    )


async def recover_on_start(
    credentials: Callable[[], AppCredentials], store: Store, clock: Clock, *, window: timedelta
) -> None:
    """The start-up run (a background task of the web app): never raises, says why it stopped."""
    try:
        # Built here, so a key that cannot be read is this task's failure, not the server's.
        async with GitHubApp(credentials()) as github:
            await recover(
                AppHooks(github),
                store,
                window=window,
                now=clock(),
            )
    except GitHubError as exc:
        log.warning("recovery of missed deliveries stopped: %s", exc.reason)
    except BackendReviewError as exc:
        log.warning("recovery of missed deliveries stopped: %s", exc)
    except Exception as exc:  # noqa: BLE001 - a background task: the server must keep serving
        log.error("recovery of missed deliveries failed (%s)", type(exc).__name__)
