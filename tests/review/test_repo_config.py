"""`.github/backend-review.yml`: defaults, the full example, and readable errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.review.files import ignored_reason
from app.review.findings import Severity
from app.review.repo_config import MAX_PROBLEMS, RepoConfig, RepoConfigError, parse_repo_config
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


# What RE2 cannot compile together: 2,200 ordinary globs (each fine alone), or one glob of
# 8,188 `?`; both reached a review and crashed it (re2's error is not a ValueError).
LONG_LIST = "ignore:\n" + "".join(f"  - 'vendor{i}/**/*.py[co]'\n" for i in range(2_200))
LONG_GLOB = "ignore:\n  - 'docs/**'\n  - '" + "?" * 8_188 + "'\n"
# Within every limit, yet too large as one set: 20 globs of 990 `?`.
HEAVY_SET = "ignore:\n" + "".join(f"  - 'd{i}/{'?' * 985}'\n" for i in range(20))


def _problems(text: str) -> list[str]:
    with pytest.raises(RepoConfigError) as err:
        parse_repo_config(text)
    return err.value.problems


def test_too_many_ignore_globs_is_a_problem_of_the_key() -> None:
    assert _problems(LONG_LIST) == ["ignore: at most 500 entries (this has 2200)"]


def test_a_glob_too_long_is_a_problem_of_its_index() -> None:
    assert _problems(LONG_GLOB) == ["ignore[1]: at most 1000 characters (this has 8188)"]


def test_globs_too_large_together_are_a_problem_of_the_list() -> None:
    [problem] = _problems(HEAVY_SET)
    assert problem.startswith("ignore: these 20 globs together are too large for the glob")
    assert "use fewer or simpler globs" in problem


def test_the_characters_of_all_globs_are_bounded() -> None:
    text = "ignore:\n" + "".join(f"  - 'd{i % 10}/{'a' * 997}'\n" for i in range(25))
    assert _problems(text) == [
        "ignore: at most 20,000 characters of globs in all (this has 25,000)"
    ]


def test_a_config_built_without_the_parser_is_checked_as_a_set_too() -> None:
    # Every RepoConfig a review sees went through this validator: what it matches compiled.
    with pytest.raises(ValidationError, match="too large for the glob matcher"):
        RepoConfig.model_validate({"ignore": [f"d{i}/{'?' * 985}" for i in range(20)]})


def test_limits_far_above_real_use_are_accepted_and_match() -> None:
    text = "ignore:\n" + "".join(f"  - 'vendor{i}/**/*.py[co]'\n" for i in range(500))
    text += "path_instructions:\n" + "".join(f"  'app/m{i}/**': x\n" for i in range(200))
    config = parse_repo_config(text)
    assert ignored_reason("vendor499/a/b.pyc", config.ignore) == (
        "ignored by config (vendor499/**/*.py[co])"
    )
    assert ignored_reason("vendor499/a/b.py", config.ignore) is None
    assert config.instructions_for("app/m199/x.py") == ["x"]


def test_path_instructions_are_bounded_and_a_long_key_is_not_repeated() -> None:
    many = "path_instructions:\n" + "".join(f"  'app/m{i}/**': x\n" for i in range(201))
    assert _problems(many) == ["path_instructions: at most 200 entries"]
    [problem] = _problems("path_instructions:\n  '" + "a" * 1_001 + "': x\n")
    assert (
        problem
        == f"path_instructions.{'a' * 79}…: the key: at most 1000 characters (this has 1001)"
    )


def test_the_problems_are_capped() -> None:
    text = "max_files: 3\n" * 200 + "rules:\n" + "".join(f"  r{i}: false\n" for i in range(100))
    problems = _problems(text)
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1] == f"… and {199 + 100 - MAX_PROBLEMS} more problems"
    assert problems[0] == "line 2: max_files: duplicate key (first on line 1)"


def test_a_long_key_is_named_by_its_start() -> None:
    key = "k" * 100_000  # an explicit key ("? "): a plain one is at most 1,024 characters
    assert _problems(f"? {key}\n: 1\n? {key}\n: 2\n") == [
        f"line 3: {'k' * 79}…: duplicate key (first on line 1)",
        f"{'k' * 79}…: unknown key",
    ]
