"""The evidence gate: which model findings may fail the check, and what an unfinished model
review does to the conclusion (issue 14, items 1 and 9)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.review.diff import parse_diff
from app.review.dismissal import DismissalRecord
from app.review.findings import Finding, Severity
from app.review.plan import PlanInput, ReviewPlan, build_plan
from app.review.repo_config import ModelConfig, RepoConfig, RepoConfigError, parse_repo_config
from app.review.report import as_json, as_sarif, as_text

DIFF = parse_diff(
    "diff --git a/app/api.py b/app/api.py\n--- a/app/api.py\n+++ b/app/api.py\n"
    "@@ -10,4 +10,5 @@ def create():\n"
    " def create(order):\n-    db.add(order)\n+    charge(order)\n+    db.add(order)\n"
    "     db.commit()\n     return order\n"
)


def llm(**over: Any) -> Finding:
    data: dict[str, Any] = {
        "rule": "general",
        "source": "llm",
        "type": "evidence",
        "category": "security",
        "severity": "critical",
        "title": "charge() before the order is stored",
        "where": {"path": "app/api.py", "lines": "11"},
        "evidence": "`charge(order)` runs before `db.add(order)`.",
        "recommendation": "Store the order first.",
        "confidence": 0.9,
    }
    data.update(over)
    return Finding.model_validate(data)


def rule(**over: Any) -> Finding:
    return llm(source="rule", rule="idempotency", confidence=None, **over)


def plan(*findings: Finding, config: RepoConfig | None = None, **kw: Any) -> ReviewPlan:
    return build_plan(PlanInput(DIFF, findings, config or RepoConfig(), **kw))


def test_confident_evidence_on_its_lines_blocks() -> None:
    got = plan(llm())
    assert (got.conclusion, got.blocking, got.advisory) == ("failure", 1, {})
    assert got.annotations[0].annotation_level == "failure"


@pytest.mark.parametrize(
    ("over", "why"),
    [
        ({"type": "question", "title": "maybe SQLi?", "confidence": 0.1}, "a question"),
        ({"type": "question", "confidence": 1.0}, "a question, not evidence"),
        ({"type": "suggestion"}, "a suggestion, not evidence"),
        ({"confidence": 0.5}, "confidence 0.5, below 0.8"),
        ({"confidence": None}, "no confidence given"),
        ({"where": {"path": "app/api.py"}}, "cites no lines"),
        ({"where": {"path": "app/api.py", "lines": "9990-9999"}}, "not anchored on the lines"),
        ({"where": {"path": "app/api.py", "lines": "16"}}, "moved from line 16"),
    ],
)
def test_a_guess_never_fails_the_check_and_is_shown_as_advisory(
    over: dict[str, Any], why: str
) -> None:
    got = plan(llm(**over))
    assert (got.conclusion, got.blocking, got.event) == ("success", 0, "COMMENT")
    [(finding_id, reason)] = got.advisory.items()
    assert why in reason
    assert f"Advisory, not blocking: 1 model finding(s): `{finding_id}`" in got.summary_body
    assert "Advisory, not blocking" in got.check_summary
    assert all(a.annotation_level == "warning" for a in got.annotations)


@pytest.mark.parametrize("guess_first", [True, False])
def test_a_guess_sharing_a_line_and_category_does_not_swallow_the_evidence(
    guess_first: bool,
) -> None:
    # Same rule, category and line: one id. The guess is more severe, yet the evidence stays.
    evidence = llm(severity="major")
    guess = llm(type="question", title="maybe SQLi?", confidence=0.1)
    got = plan(*([guess, evidence] if guess_first else [evidence, guess]))
    assert [(f.type, f.severity.value) for f in got.findings] == [("evidence", "major")]
    assert (got.conclusion, got.blocking) == ("failure", 1)


def test_the_threshold_is_the_repository_s() -> None:
    strict = RepoConfig(model=ModelConfig(block_confidence=0.95))
    assert plan(llm(confidence=0.9), config=strict).conclusion == "success"
    assert plan(llm(confidence=0.95), config=strict).conclusion == "failure"
    lenient = RepoConfig(model=ModelConfig(block_confidence=0.3))
    assert plan(llm(confidence=0.5), config=lenient).conclusion == "failure"


def test_below_fail_on_a_model_finding_is_neither_blocking_nor_advisory() -> None:
    got = plan(llm(severity="minor", confidence=0.1))
    assert (got.conclusion, got.advisory) == ("success", {})


def test_a_narrowed_range_is_still_on_the_lines_it_cites() -> None:
    # 8-12 starts before the hunk: anchored on 10-12, inside what it cites.
    assert plan(llm(where={"path": "app/api.py", "lines": "8-12"})).conclusion == "failure"


def test_model_blocking_false_makes_every_model_finding_advisory_but_rules_still_block() -> None:
    advisory = RepoConfig(model=ModelConfig(blocking=False))
    got = plan(llm(), config=advisory)
    assert got.conclusion == "success"
    assert "model.blocking: false" in next(iter(got.advisory.values()))
    assert plan(rule(), llm(title="other"), config=advisory).blocking == 1


def test_rule_findings_are_not_gated() -> None:
    got = plan(rule(type="question"))
    assert (got.conclusion, got.advisory) == ("failure", {})


def test_the_cli_reports_say_which_findings_are_advisory() -> None:
    got = plan(llm(confidence=0.2), rule(severity="minor"))
    [advised] = [f for f in got.findings if f.source.value == "llm"]
    text = as_text(got, mode="rules + model", color=False)
    assert "advisory, does not block: confidence 0.2, below 0.8" in text
    assert text.rstrip().endswith("PASS: No blocking findings (1 critical, 1 minor)")
    data = as_json(got, version="1", status="ready")
    assert f'"{advised.id}": "confidence 0.2, below 0.8"' in data
    sarif = as_sarif(got, version="1", rule_docs=[], fail_on=Severity.MAJOR)
    assert '"level": "error"' not in sarif
    rules_only = as_json(plan(rule(severity="minor")), version="1", status="ready")
    assert '"advisory"' not in rules_only


# --- incomplete is never success (item 9) ----------------------------------------------------


def test_an_unfinished_model_review_is_at_best_neutral_whatever_was_dismissed() -> None:
    found = rule()
    first = plan(found)
    dismissals = [
        DismissalRecord(
            finding_id=first.findings[0].id,
            by_login="lead",
            role="admin",
            reason="accepted risk",
            at=datetime(2026, 12, 1, tzinfo=UTC),
        )
    ]
    got = plan(
        found,
        incomplete="the model was unavailable: 529 overloaded",
        dismissals=dismissals,
        pr_author="dev",
    )
    assert got.dismissed == [first.findings[0].id]
    assert got.conclusion == "neutral"
    assert got.check_title == "Review incomplete: the model was unavailable: 529 overloaded"


def test_a_strict_repository_fails_an_incomplete_review() -> None:
    # GitHub counts neutral as passing a required check; `model.incomplete: failure` makes
    # an unreviewed change unmergeable (an author cannot drain the budget to get through).
    strict = parse_repo_config("model:\n  incomplete: failure\n")
    got = plan(rule(severity="minor"), config=strict, incomplete="the daily budget is spent")
    assert (got.conclusion, got.blocking) == ("failure", 0)
    assert got.check_title == "Review incomplete: the daily budget is spent"
    assert plan(rule(severity="minor"), config=strict).conclusion == "success"
    with pytest.raises(RepoConfigError, match=r"model\.incomplete: expected one of"):
        parse_repo_config("model:\n  incomplete: fail\n")


def test_with_an_advisory_model_its_absence_does_not_hold_the_check_but_is_said() -> None:
    advisory = RepoConfig(model=ModelConfig(blocking=False))
    got = plan(rule(severity="minor"), config=advisory, incomplete="the daily budget is spent")
    assert got.conclusion == "success"
    assert "The model did not review: the daily budget is spent (model.blocking: false)" in (
        got.summary_body
    )
    assert "The model did not review" in got.check_summary
    # A rule finding still fails it; a review that could not finish still fails.
    blocked = plan(rule(), config=advisory, incomplete="x")
    assert blocked.conclusion == "failure"
    assert "The model did not review: x" in blocked.summary_body
    assert "Incomplete: x" not in blocked.summary_body  # said once
    assert plan(config=advisory, incomplete="x", failed="cpu").conclusion == "failure"


# --- the config keys --------------------------------------------------------------------------


def test_the_model_section_of_the_repo_config() -> None:
    assert RepoConfig().model == ModelConfig(blocking=True, block_confidence=0.8)
    got = parse_repo_config("model:\n  blocking: false\n  block_confidence: 0.9\n")
    assert (got.model.blocking, got.model.block_confidence) == (False, 0.9)
    assert parse_repo_config("model:\n  block_confidence: 1\n").model.block_confidence == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("model:\n  block_confidence: 1.5\n", "model.block_confidence: must be at most 1"),
        ("model:\n  block_confidence: -0.1\n", "model.block_confidence: must be at least 0"),
        ("model:\n  block_confidence: high\n", "model.block_confidence: expected a number"),
        ("model:\n  blocking: no-thanks\n", "model.blocking: expected true or false"),
        ("model:\n  blocks: false\n", "model.blocks: unknown key (did you mean blocking?)"),
        ("model: true\n", "model: expected a mapping"),
    ],
)
def test_a_bad_model_section_names_the_key(text: str, problem: str) -> None:
    with pytest.raises(RepoConfigError) as caught:
        parse_repo_config(text)
    assert caught.value.problems == [problem]
