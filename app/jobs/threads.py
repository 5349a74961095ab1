"""Closing the review threads of findings a push fixed.

A complete review lists the findings on the pull request it no longer finds
(`ReviewPlan.resolved`). Each of those that we commented on a line has a thread, whose first
comment is ours (`OnThePr.threads`, read back from our own reviews). What happens to it:

- nobody but bots wrote in it: it is resolved (GraphQL `resolveReviewThread`), so "require
  conversation resolution" does not make the author click through our threads;
- a person wrote in it: it is theirs to close. We reply once "fixed in <sha>" and leave it open.

Only findings that the last review still had are acted on (`newly_fixed`): a finding fixed weeks
ago stays in the plan's resolved list on every push, and a thread someone re-opened by hand is
not closed again. Nothing here fails the review: what could not be done is logged, comes back
as a notice for the summary, and is kept with the review (`left_open`) so that the next review
tries those threads again.

GitHub calls: none when no thread is to be closed; else one query per 100 threads, one
mutation per 50 threads to resolve, and one reply per thread a person spoke in.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass

from app.github.repo import RepoClient
from app.github.types import GitHubError
from app.review.commands import fixed_text
from app.review.markers import fixed_marker
from app.store.reviews import StoredReview

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClosedThreads:
    resolved: int = 0
    answered: int = 0  # threads a person spoke in, told "fixed in <sha>"
    failures: tuple[str, ...] = ()
    calls: int = 0
    left_open: tuple[str, ...] = ()  # the findings whose threads are to be tried again

    def notice(self) -> str | None:
        """What the summary says when something could not be done."""
        if not self.failures:
            return None
        shown = "; ".join(self.failures[:3]) + (" …" if len(self.failures) > 3 else "")
        return (
            f"Some review threads of fixed findings were left open ({shown}); the next review "
            "tries them again, or resolve them by hand."
        )


def newly_fixed(resolved: Collection[str], last: StoredReview | None) -> list[str]:
    """The findings the plan calls resolved that the last review still had, or whose threads it
    could not close (all of them when there is no last review to ask, e.g. an empty database)."""
    if last is None or last.severities is None:
        return list(resolved)
    known = set(last.severities) | {f.id for f in last.model_findings} | set(last.threads_open)
    return [i for i in resolved if i in known]


async def close_fixed_threads(
    repo: RepoClient,
    *,
    number: int,
    head_sha: str,
    fixed: Collection[str],
    threads: Mapping[int, str],
    bot_login: Callable[[], Awaitable[str]],
) -> ClosedThreads:
    """Resolve (or answer) the threads of our comments on the `fixed` findings."""
    wanted = {comment_id: f for comment_id, f in threads.items() if f in set(fixed)}
    if not wanted:
        return ClosedThreads()
    try:
        listed = await repo.review_threads(number)
    except GitHubError as exc:
        log.warning("#%d: review threads not read: %s", number, exc.reason)
        return ClosedThreads(
            failures=(f"the threads could not be read: {exc.reason}",),
            calls=1,
            left_open=tuple(sorted(set(wanted.values()))),
        )
    calls = listed.requests
    if listed.truncated:
        log.warning("#%d: more review threads than we read; later ones stay as they are", number)
    bot = await bot_login()
    to_resolve: dict[str, str] = {}
    to_answer: list[tuple[int, str]] = []
    for thread in listed.threads:
        root = thread.root_id
        finding_id = wanted.get(root) if root is not None else None
        if root is None or finding_id is None or thread.resolved:
            continue
        if not thread.people_spoke():
            to_resolve[thread.id] = finding_id
        elif not (
            thread.last is not None
            and thread.last.by(bot)
            and fixed_marker(finding_id) in thread.last_body
        ):
            to_answer.append((root, finding_id))
    failures: list[str] = []
    left_open: set[str] = set()
    resolved = 0
    if to_resolve:
        try:
            outcome = await repo.resolve_threads(list(to_resolve))
            calls += -(-len(to_resolve) // 50)
        except GitHubError as exc:
            outcome = dict.fromkeys(to_resolve, exc.reason)
            calls += 1
        for thread_id, why in outcome.items():
            if why is None:
                resolved += 1
            else:
                log.warning(
                    "#%d: thread of %s not resolved: %s", number, to_resolve[thread_id], why
                )
                failures.append(f"`{to_resolve[thread_id]}`: {why}")
                left_open.add(to_resolve[thread_id])
    answered = 0
    for root_id, finding_id in to_answer:
        calls += 1
        try:
            await repo.reply_to_review_comment(number, root_id, fixed_text(finding_id, head_sha))
            answered += 1
        except GitHubError as exc:
            log.warning("#%d: no 'fixed' reply for %s: %s", number, finding_id, exc.reason)
            failures.append(f"`{finding_id}`: no reply ({exc.reason})")
            left_open.add(finding_id)
    if resolved or answered:
        log.info("#%d: %d thread(s) resolved, %d answered", number, resolved, answered)
    return ClosedThreads(resolved, answered, tuple(failures), calls, tuple(sorted(left_open)))
