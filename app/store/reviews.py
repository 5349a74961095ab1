"""What the review pipeline remembers per pull request: its last published review, and the
findings people dismissed on it.

The last review is one row per PR, replaced on each publish: a re-review compares the new head
with its `head_sha` and carries its model findings on files the push did not touch. Its check run
and summary comment ids let a re-review edit them instead of creating new ones. GitHub stays the
record of what was posted (markers in comments): losing the last review costs a re-review
tokens, never a duplicate comment.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, Insert, Select, Update, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from app.review.dismissal import LEGACY_ROLE, DismissalRecord
from app.review.findings import Finding, Severity
from app.store.db import run_transaction
from app.store.tables import dismissals as dismissals_table
from app.store.tables import pull_reviews

log = logging.getLogger(__name__)

_FINDINGS = TypeAdapter(list[Finding])


def _aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")


@dataclass(frozen=True)
class StoredReview:
    repository_id: int
    number: int
    repository: str  # owner/name
    head_sha: str
    base_sha: str
    model_findings: tuple[Finding, ...]  # the model's only: rule findings are recomputed
    conclusion: str
    check_run_id: int | None
    summary_comment_id: int | None
    reviewed_at: datetime  # timezone-aware
    # Every finding of that review (rules' and model's) -> its severity; None: not recorded.
    severities: dict[str, Severity] | None = None
    # `model.verify`'s verdicts on its model findings: id -> None (confirmed) or why the
    # finding does not block (refuted); findings that were not verified are not in it.
    verdicts: dict[str, str | None] | None = None
    # Fixed findings whose threads this review could not resolve or answer: the next review
    # tries again (the finding is no longer among its findings, so nothing else would).
    threads_open: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _aware(self.reviewed_at, "StoredReview.reviewed_at")


@dataclass(frozen=True)
class Dismissal:
    repository_id: int
    number: int
    finding_id: str
    by_login: str
    reason: str
    at: datetime  # timezone-aware
    by_role: str | None = None  # their role on the repository when they dismissed it

    def __post_init__(self) -> None:
        _aware(self.at, "Dismissal.at")


# ----- the last review -----


@functools.cache
def _upsert_review(dialect: str) -> Insert:
    # Both dialects spell the upsert the same way; a concurrent first save of the same PR then
    # updates the row instead of failing on the primary key, as delete + insert would.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(pull_reviews)
    keys = {c.name for c in pull_reviews.primary_key.columns}
    return stmt.on_conflict_do_update(
        index_elements=sorted(keys),
        set_={c.name: stmt.excluded[c.name] for c in pull_reviews.columns if c.name not in keys},
    )


_LAST_REVIEW: Select[Any] = select(pull_reviews).where(
    pull_reviews.c.repository_id == bindparam("p_repository_id"),
    pull_reviews.c.number == bindparam("p_number"),
)


async def save_review(engine: AsyncEngine, review: StoredReview) -> None:
    """Store `review` as the PR's last review, replacing the one before."""
    findings = [f.model_dump(mode="json", by_alias=True) for f in review.model_findings]
    row = {
        "repository_id": review.repository_id,
        "number": review.number,
        "repository": review.repository,
        "head_sha": review.head_sha,
        "base_sha": review.base_sha,
        "model_findings": json.dumps(findings, separators=(",", ":")),
        "conclusion": review.conclusion,
        "check_run_id": review.check_run_id,
        "summary_comment_id": review.summary_comment_id,
        "reviewed_at": review.reviewed_at,
        "severities": None
        if review.severities is None
        else json.dumps({k: v.value for k, v in review.severities.items()}),
        "verdicts": None if review.verdicts is None else json.dumps(review.verdicts),
        "threads_open": json.dumps(list(review.threads_open)) if review.threads_open else None,
    }

    def work(conn: Connection) -> None:
        conn.execute(_upsert_review(conn.dialect.name), row)

    await run_transaction(engine, work)


async def last_review(engine: AsyncEngine, repository_id: int, number: int) -> StoredReview | None:
    """The PR's last stored review, or None if it has none."""
    params = {"p_repository_id": repository_id, "p_number": number}

    def work(conn: Connection) -> StoredReview | None:
        row = conn.execute(_LAST_REVIEW, params).first()
        if row is None:
            return None
        return StoredReview(
            repository_id=row.repository_id,
            number=row.number,
            repository=row.repository,
            head_sha=row.head_sha,
            base_sha=row.base_sha,
            model_findings=_load_findings(row.model_findings, row.repository, row.number),
            conclusion=row.conclusion,
            check_run_id=row.check_run_id,
            summary_comment_id=row.summary_comment_id,
            reviewed_at=row.reviewed_at,
            severities=_load_severities(row.severities),
            verdicts=_load_verdicts(row.verdicts),
            threads_open=_load_ids(row.threads_open),
        )

    return await run_transaction(engine, work)


def _load_severities(text: str | None) -> dict[str, Severity] | None:
    if text is None:
        return None
    try:
        data = json.loads(text)
        return {str(k): Severity(v) for k, v in data.items()}
    except (ValueError, AttributeError, TypeError):
        return None  # unknown: a dismissal is then judged by the review, which knows


def _load_verdicts(text: str | None) -> dict[str, str | None] | None:
    if text is None:
        return None
    try:
        data = json.loads(text)
        return {
            str(k): v
            for k, v in data.items()
            if v is None or isinstance(v, str)  # anything else: not a verdict, verify again
        }
    except (ValueError, AttributeError):
        return None  # unreadable: the findings are verified again, which is never wrong


def _load_ids(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    try:
        data = json.loads(text)
    except ValueError:
        return ()  # unreadable: those threads stay open, as the summary said they would
    return tuple(i for i in data if isinstance(i, str)) if isinstance(data, list) else ()


def _load_findings(text: str, repository: str, number: int) -> tuple[Finding, ...]:
    # A row written before the findings model changed: the re-review then asks the model about
    # every file again, which costs tokens but is never wrong. Failing would block the PR.
    try:
        return tuple(_FINDINGS.validate_json(text))
    except ValidationError:
        log.warning(
            "stored model findings of %s#%d no longer validate; re-reviewing without them",
            repository,
            number,
        )
        return ()


# ----- dismissals -----

_D = dismissals_table.c


def _one_dismissal() -> Any:
    return (
        (_D.repository_id == bindparam("p_repository_id"))
        & (_D.number == bindparam("p_number"))
        & (_D.finding_id == bindparam("p_finding_id"))
    )


# The first dismissal's time is kept: the list stays in the order findings were dismissed.
_UPDATE_DISMISSAL: Update = (
    dismissals_table.update()
    .where(_one_dismissal())
    .values(
        by_login=bindparam("p_by_login"),
        reason=bindparam("p_reason"),
        by_role=bindparam("p_by_role"),
    )
    .returning(_D.id)
)
_DELETE_DISMISSAL = delete(dismissals_table).where(_one_dismissal()).returning(_D.id)
_LIST_DISMISSALS: Select[Any] = (
    select(_D.finding_id, _D.by_login, _D.reason, _D.by_role, _D.created_at)
    .where(_D.repository_id == bindparam("p_repository_id"), _D.number == bindparam("p_number"))
    .order_by(_D.created_at, _D.id)
)


@functools.cache
def _insert_dismissal(dialect: str) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(dismissals_table)
        .on_conflict_do_nothing(index_elements=["repository_id", "number", "finding_id"])
        .returning(_D.id)
    )


async def add_dismissal(engine: AsyncEngine, dismissal: Dismissal) -> bool:
    """Dismiss a finding on a PR: True if it was not dismissed yet. Dismissing it again records
    the new login and reason and returns False."""
    key = {
        "p_repository_id": dismissal.repository_id,
        "p_number": dismissal.number,
        "p_finding_id": dismissal.finding_id,
    }
    who = {
        "p_by_login": dismissal.by_login,
        "p_reason": dismissal.reason,
        "p_by_role": dismissal.by_role,
    }
    row = {
        "repository_id": dismissal.repository_id,
        "number": dismissal.number,
        "finding_id": dismissal.finding_id,
        "by_login": dismissal.by_login,
        "reason": dismissal.reason,
        "created_at": dismissal.at,
        "by_role": dismissal.by_role,
    }

    def work(conn: Connection) -> bool:
        if conn.execute(_UPDATE_DISMISSAL, key | who).first() is not None:
            return False
        if conn.execute(_insert_dismissal(conn.dialect.name), row).first() is not None:
            return True
        # Someone dismissed it between our update and insert: theirs is the older dismissal.
        conn.execute(_UPDATE_DISMISSAL, key | who)
        return False

    return await run_transaction(engine, work)


async def remove_dismissal(
    engine: AsyncEngine, repository_id: int, number: int, finding_id: str
) -> bool:
    """Undo a dismissal: True if the finding was dismissed on the PR."""
    key = {"p_repository_id": repository_id, "p_number": number, "p_finding_id": finding_id}
    return await run_transaction(
        engine, lambda conn: conn.execute(_DELETE_DISMISSAL, key).first() is not None
    )


async def dismissals(engine: AsyncEngine, repository_id: int, number: int) -> dict[str, str]:
    """Finding id -> "by @login: reason" for the PR's dismissals, oldest first."""
    params = {"p_repository_id": repository_id, "p_number": number}

    def work(conn: Connection) -> dict[str, str]:
        rows = conn.execute(_LIST_DISMISSALS, params)
        return {r.finding_id: _why(r.by_login, r.reason) for r in rows}

    return await run_transaction(engine, work)


async def dismissal_records(
    engine: AsyncEngine, repository_id: int, number: int
) -> list[DismissalRecord]:
    """The PR's dismissals, oldest first, with who, their role, why and when: what the review
    judges against the base branch's `dismiss` policy."""
    params = {"p_repository_id": repository_id, "p_number": number}

    def work(conn: Connection) -> list[DismissalRecord]:
        return [
            DismissalRecord(
                finding_id=r.finding_id,
                by_login=r.by_login,
                role=r.by_role or LEGACY_ROLE,
                reason=r.reason,
                at=r.created_at,
            )
            for r in conn.execute(_LIST_DISMISSALS, params)
        ]

    return await run_transaction(engine, work)


def _why(login: str, reason: str) -> str:
    reason = reason.strip()
    return f"by @{login}: {reason}" if reason else f"by @{login}"
