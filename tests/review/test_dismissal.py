"""The dismissal policy: who may dismiss what, and what a review applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.review.dismissal import DismissalRecord, judge, refusal_reason
from app.review.findings import Severity
from app.review.repo_config import DismissConfig, parse_repo_config

DEFAULT = DismissConfig()
AT = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)


def why(
    role: str,
    severity: Severity | None,
    *,
    login: str = "alice",
    author: str | None = "bob",
    policy: DismissConfig = DEFAULT,
) -> str | None:
    return refusal_reason(policy, login=login, role=role, pr_author=author, severity=severity)


@pytest.mark.parametrize("role", ["write", "maintain", "admin"])
def test_the_author_cannot_dismiss_on_their_own_pull_request_whatever_their_role(
    role: str,
) -> None:
    reason = why(role, Severity.MINOR, login="Bob", author="bob")  # logins ignore case
    assert reason is not None
    assert "author of a pull request cannot dismiss" in reason


def test_the_author_may_when_the_base_branch_allows_it() -> None:
    policy = parse_repo_config("dismiss:\n  allow_author: true\n").dismiss
    assert why("write", Severity.MAJOR, login="bob", policy=policy) is None
    # ... but the critical rule still holds for them.
    assert why("write", Severity.CRITICAL, login="bob", policy=policy) is not None


@pytest.mark.parametrize(
    ("role", "severity", "allowed"),
    [
        ("write", Severity.MAJOR, True),
        ("write", Severity.INFO, True),
        ("write", Severity.CRITICAL, False),
        ("maintain", Severity.CRITICAL, True),
        ("admin", Severity.CRITICAL, True),
        ("triage", Severity.MINOR, False),
        ("read", Severity.MINOR, False),
        ("none", Severity.MINOR, False),
        ("a-role-github-invented-later", Severity.MINOR, False),
    ],
)
def test_roles_by_default(role: str, severity: Severity, allowed: bool) -> None:
    assert (why(role, severity) is None) is allowed


def test_a_refusal_says_why() -> None:
    assert why("write", Severity.CRITICAL) == (
        "this finding is critical: dismissing it needs maintain or admin permission; "
        "@alice has write"
    )
    strict = DismissConfig(min_permission="admin", critical_min_permission="admin")
    assert why("maintain", Severity.MINOR, policy=strict) == (
        "dismissing a finding needs admin permission; @alice has maintain"
    )


def test_unknown_severity_leaves_the_critical_rule_to_the_review() -> None:
    assert why("write", None) is None
    assert why("read", None) is not None


def test_a_pull_request_without_a_known_author_is_judged_on_roles() -> None:
    assert why("write", Severity.MAJOR, author=None) is None


def record(finding_id: str, login: str, role: str, reason: str = "known") -> DismissalRecord:
    return DismissalRecord(finding_id, login, role, reason, AT)


def test_judge_applies_what_the_policy_allows_and_says_why_for_the_rest() -> None:
    judged = judge(
        [
            record("br-000000000001", "alice", "write", "false positive"),
            record("br-000000000002", "alice", "write"),  # critical: refused
            record("br-000000000003", "bob", "admin"),  # the author: refused
            record("br-000000000004", "carol", "maintain", "  "),  # not found this time
        ],
        {
            "br-000000000001": Severity.MAJOR,
            "br-000000000002": Severity.CRITICAL,
            "br-000000000003": Severity.MINOR,
        },
        DEFAULT,
        pr_author="bob",
    )
    assert judged.applied == {
        "br-000000000001": "by @alice on 2026-12-06 07:30 UTC: false positive",
        "br-000000000004": "by @carol on 2026-12-06 07:30 UTC",
    }
    assert set(judged.refused) == {"br-000000000002", "br-000000000003"}
    assert judged.refused["br-000000000002"].startswith("dismissal by @alice not applied: ")
    assert "critical" in judged.refused["br-000000000002"]


def test_the_time_shown_is_utc_whatever_zone_it_was_stored_in() -> None:
    east = timezone(timedelta(hours=5))
    moment = DismissalRecord("br-000000000001", "alice", "write", "ok", AT.astimezone(east))
    judged = judge([moment], {}, DEFAULT, pr_author="bob")
    assert judged.applied["br-000000000001"].startswith("by @alice on 2026-12-06 07:30 UTC")
