"""`.github/backend-review.yml`: defaults, the full example, and readable errors."""

from __future__ import annotations

import pytest

from app.review.findings import Severity
from app.review.repo_config import RepoConfig, RepoConfigError, parse_repo_config
from app.review.rules import ALL_RULES, RuleContext

RULE = ALL_RULES[0].id

EXAMPLE = f"""
# every key is optional
max_files: 20
fail_on: critical
ignore:
  - "docs/**"
  - "!docs/adr/**"
path_instructions:
  "app/payments/**": "Every mutating endpoint needs an idempotency key."
  "**/*.sql": "PostgreSQL 15."
rules:
  {RULE}: false
persona: backend-engineer
review_drafts: true
request_changes: true
linear:
  enabled: false
  require_issue: true
dismiss:
  allow_author: true
  min_permission: maintain
  critical_min_permission: admin
"""


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n"])
def test_empty_file_means_defaults(text: str) -> None:
    config = parse_repo_config(text)
    assert config == RepoConfig()
    assert (config.max_files, config.fail_on, config.request_changes) == (15, Severity.MAJOR, False)
    assert (config.linear.enabled, config.linear.require_issue) == (True, False)
    assert config.rule_context() == RuleContext()
    # The gate's defaults: the author cannot dismiss; critical findings need maintain.
    assert config.dismiss.model_dump() == {
        "allow_author": False,
        "min_permission": "write",
        "critical_min_permission": "maintain",
    }


def test_full_example() -> None:
    config = parse_repo_config(EXAMPLE)
    assert config.fail_on is Severity.CRITICAL
    assert config.fails(Severity.CRITICAL)
    assert not config.fails(Severity.MAJOR)
    assert config.rule_context() == RuleContext(
        max_files=20, ignore=("docs/**", "!docs/adr/**"), disabled=frozenset({RULE})
    )
    assert config.instructions_for("app/payments/refunds.py") == [
        "Every mutating endpoint needs an idempotency key."
    ]
    assert config.instructions_for("db/001.sql") == ["PostgreSQL 15."]
    assert config.instructions_for("README.md") == []
    assert (config.persona, config.review_drafts, config.linear.require_issue) == (
        "backend-engineer",
        True,
        True,
    )
    assert (config.dismiss.allow_author, config.dismiss.critical_min_permission) == (True, "admin")


def test_a_rule_switched_on_explicitly_is_not_disabled() -> None:
    assert parse_repo_config(f"rules:\n  {RULE}: true\n").rule_context().disabled == frozenset()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"rules:\n  {RULE}: maybe\n", f"rules.{RULE}: expected true or false"),
        (f"rules:\n  {RULE}: 'false'\n", f"rules.{RULE}: expected true or false"),
        ("rules:\n  migrtion-rollback: false\n", "rules.migrtion-rollback: unknown rule"),
        ("max_file: 3\n", "max_file: unknown key (did you mean max_files?)"),
        ("max_files: 0\n", "max_files: must be at least 1"),
        ("max_files: many\n", "max_files: expected a whole number"),
        ("max_files: true\n", "max_files: expected a whole number"),
        ("fail_on: blocker\n", "fail_on: expected one of critical, major, minor, info"),
        ("ignore: docs/**\n", "ignore: expected a list"),
        ("ignore:\n  - docs\n  - 3\n", "ignore[1]: expected text"),
        ("path_instructions:\n  - x\n", "path_instructions: expected a mapping"),
        ("path_instructions:\n  '**': 3\n", "path_instructions.**: expected text"),
        ("linear: true\n", "linear: expected a mapping"),
        ("linear:\n  requre_issue: true\n", "linear.requre_issue: unknown key (did you mean"),
        ("review_drafts: 1\n", "review_drafts: expected true or false"),
        ("dismiss: false\n", "dismiss: expected a mapping"),
        ("dismiss:\n  allow_authors: true\n", "dismiss.allow_authors: unknown key (did you mean"),
        ("dismiss:\n  allow_author: 'no'\n", "dismiss.allow_author: expected true or false"),
        ("dismiss:\n  min_permission: read\n", "expected one of write, maintain or admin"),
        ("dismiss:\n  min_permission: [write]\n", "dismiss.min_permission: expected one of"),
        (
            "dismiss:\n  min_permission: admin\n  critical_min_permission: write\n",
            "dismiss: critical_min_permission must be at least min_permission (admin)",
        ),
        ("- a\n- b\n", "expected a mapping of settings"),
        ("fail_on: [major\n", "line 2, column 1"),
        ("a: b: c\n", "line 1, column 5"),
    ],
)
def test_invalid_config_names_the_key(text: str, message: str) -> None:
    with pytest.raises(RepoConfigError) as err:
        parse_repo_config(text)
    assert message in str(err.value)
    assert err.value.problems


def test_every_problem_is_reported() -> None:
    with pytest.raises(RepoConfigError) as err:
        parse_repo_config("max_files: x\nfail_on: y\n")
    assert len(err.value.problems) == 2


def test_known_rules_can_be_given() -> None:
    assert parse_repo_config("rules:\n  custom: false\n", known_rules={"custom"}).rules == {
        "custom": False
    }
