"""Reading a pull request's whole files from GitHub for the review (the gather step's part).

    plan (app.review.file_gather) ─► one GraphQL request: every planned head and base, and the
    modules the added route files import ─► if calls remain, one more for the modules the
    changed route files import ─► FileContext

One call for most pull requests (100 texts per call; `BACKEND_REVIEW_CONTEXT_MAX_CALLS` caps
them, default 2). Whatever fails (a GitHub error of any kind, a rate limit) leaves the review
on the hunks, with a note that becomes the summary's missing context: reading the files is
worth a call, never a failed review.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from app.github.blobs import Blob, BlobRef
from app.github.repo import RepoClient
from app.github.types import GitHubError
from app.review.chunking import review_priority
from app.review.diff_model import Diff
from app.review.file_context import FileContext
from app.review.file_gather import (
    ContextLimits,
    Fetched,
    Read,
    assemble,
    known_texts,
    plan_reads,
)
from app.review.files import classify
from app.review.import_hop import hops_for

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReadFiles:
    context: FileContext
    calls: int  # GitHub calls made (counted in the review's calls)
    # The pull request's commit messages, when `commits_of` asked and the first call gave them.
    commit_messages: tuple[str, ...] | None = None


async def read_files(
    repo: RepoClient,
    diff: Diff,
    *,
    head_sha: str,
    base_sha: str,
    ignore: Sequence[str],
    limits: ContextLimits,
    commits_of: int | None = None,
) -> ReadFiles:
    """The changed files' texts; with `commits_of`, that pull request's commit messages asked
    in the same first call (the linked-issue search reads them)."""
    plan = plan_reads(diff, ignore, limits)
    if not plan.files:
        return ReadFiles(assemble(plan, {}, limits), 0)
    sha = {"head": head_sha, "base": base_sha}
    refs = {BlobRef(sha[r.side], r.path): r for r in plan.reads}
    planned = {f.path for f in plan.files}
    hops = [p for p in hops_for(known_texts(plan), limit=limits.hop_files) if p not in planned]
    notes: list[str] = []
    found: dict[Read, Fetched | None] = {}
    extra: dict[str, Fetched | None] = {}
    calls = 0
    messages: tuple[str, ...] | None = None
    wanted = [*refs, *(BlobRef(head_sha, p) for p in hops)]
    if wanted:
        try:
            got = await repo.blobs(wanted, max_requests=limits.max_calls, commits_of=commits_of)
        except GitHubError as exc:
            log.warning("whole files not read: %s", exc.reason)
            note = f"whole files could not be read from GitHub ({exc.reason}); hunks only"
            return ReadFiles(assemble(plan, {}, limits, notes=[note]), 1)
        calls += got.requests
        messages = got.commit_messages
        found = {refs[ref]: _fetched(blob) for ref, blob in got.found.items() if ref in refs}
        extra = {
            p: _fetched(got.found[BlobRef(head_sha, p)])
            for p in hops
            if BlobRef(head_sha, p) in got.found
        }
        unread = [r.path for ref, r in refs.items() if ref not in got.found]
        if unread:
            notes.append(
                f"whole text of {len(unread)} file(s) not read (over "
                f"{limits.max_calls} GitHub call(s)); hunks only"
            )
    routes = [
        (f.path, text)
        for f in plan.files
        if (classify(f.path).kind == "route" or review_priority(f) == 1)
        and (text := _text(found.get(Read("head", f.path)))) is not None
    ]
    left = limits.hop_files - len(extra)
    more = [p for p in hops_for(routes, limit=left) if p not in planned and p not in hops]
    if more and calls < limits.max_calls:
        try:
            got = await repo.blobs([BlobRef(head_sha, p) for p in more], max_requests=1)
        except GitHubError as exc:
            log.info("the modules route files import were not read: %s", exc.reason)
            calls += 1
        else:
            calls += got.requests
            extra |= {ref.path: _fetched(blob) for ref, blob in got.found.items()}
    context = assemble(plan, found, limits, extra=extra.items(), notes=notes)
    return ReadFiles(context, calls, messages)


def _fetched(blob: Blob | None) -> Fetched | None:
    if blob is None:
        return None
    return Fetched(blob.text, blob.byte_size, truncated=blob.truncated)


def _text(fetched: Fetched | None) -> str | None:
    return fetched.text if fetched is not None else None
