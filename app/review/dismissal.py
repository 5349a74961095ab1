"""Who may dismiss a finding: the repository's `dismiss` policy (read from the base branch),
decided here as pure functions.

Asked twice, on purpose:
- when someone comments `/backend-review ignore`, with what is known then (who asks, their
  role, the PR's author, the finding's severity when the last review recorded it), so a refusal
  is answered at once and says why;
- when a review builds its plan, with every finding's severity known: a dismissal the policy
  does not allow for that finding is not applied and the summary says why. That is the check
  that counts; a PR cannot open its own gate even if the first answer was given without the
  severity, or the policy changed on the base branch since.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from app.review.findings import Severity
from app.review.repo_config import DismissConfig, role_rank

# A dismissal stored before roles were recorded: commands then required write.
LEGACY_ROLE = "write"


@dataclass(frozen=True, slots=True)
class DismissalRecord:
    """One stored dismissal, as the core sees it."""

    finding_id: str
    by_login: str
    role: str  # the dismisser's role when they dismissed it
    reason: str
    at: datetime  # timezone-aware


def refusal_reason(
    policy: DismissConfig,
    *,
    login: str,
    role: str,
    pr_author: str | None,
    severity: Severity | None,
) -> str | None:
    """Why `login` (with `role`) may not dismiss a finding of `severity` on a pull request by
    `pr_author`, or None when they may. `severity` None: not known yet (the critical rule is
    then left to the review, which knows it)."""
    if not policy.allow_author and pr_author is not None and _same(login, pr_author):
        return (
            "the author of a pull request cannot dismiss findings on it "
            "(`dismiss.allow_author` is off); ask a reviewer with write access"
        )
    if role_rank(role) < role_rank(policy.min_permission):
        return (
            f"dismissing a finding needs {_role_or_more(policy.min_permission)} "
            f"permission; @{login} has {role}"
        )
    critical = severity is Severity.CRITICAL
    if critical and role_rank(role) < role_rank(policy.critical_min_permission):
        return (
            f"this finding is critical: dismissing it needs "
            f"{_role_or_more(policy.critical_min_permission)} permission; @{login} has {role}"
        )
    return None


@dataclass(frozen=True, slots=True)
class Judged:
    """The dismissals a review applies, and those it does not (finding id -> why)."""

    applied: dict[str, str]  # id -> "by @login on <when>: reason", shown in the summary
    refused: dict[str, str]  # id -> "dismissal by @login not applied: <why>"


def judge(
    records: Iterable[DismissalRecord],
    severities: Mapping[str, Severity],
    policy: DismissConfig,
    *,
    pr_author: str | None,
) -> Judged:
    """Apply `policy` to each stored dismissal, knowing each finding's severity (`severities`:
    the findings this review has; a dismissal of a finding it does not have is kept, it may
    come back)."""
    applied: dict[str, str] = {}
    refused: dict[str, str] = {}
    for record in records:
        severity = severities.get(record.finding_id)
        why = refusal_reason(
            policy,
            login=record.by_login,
            role=record.role,
            pr_author=pr_author,
            severity=severity,
        )
        if why is None:
            applied[record.finding_id] = dismissal_note(record)
        else:
            refused[record.finding_id] = f"dismissal by @{record.by_login} not applied: {why}"
    return Judged(applied, refused)


def dismissal_note(record: DismissalRecord) -> str:
    """How an applied dismissal reads in the summary: who, when, why."""
    when = record.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    reason = record.reason.strip()
    head = f"by @{record.by_login} on {when}"
    return f"{head}: {reason}" if reason else head


def _same(login: str, other: str) -> bool:
    return login.casefold() == other.casefold()  # GitHub logins are case-insensitive


def _role_or_more(role: str) -> str:
    return (
        "admin" if role == "admin" else f"{role} or {'admin' if role == 'maintain' else 'higher'}"
    )
