"""Merging the model's findings with the rules' findings, and the parts' summaries into one."""

from __future__ import annotations

from typing import Any

import pytest

from app.review.diff import parse_diff
from app.review.findings import Finding, NextAction, ReviewSummary
from app.review.model_merge import Merged, merge_model_findings, merge_summaries
from app.review.repo_config import ModelConfig, RepoConfig

DIFF = parse_diff(
    "diff --git a/app/api.py b/app/api.py\n--- a/app/api.py\n+++ b/app/api.py\n"
    "@@ -10,4 +10,5 @@ def create():\n"
    " def create(order):\n-    db.add(order)\n+    charge(order)\n+    db.add(order)\n"
    "     db.commit()\n     return order\n"
    "diff --git a/app/old_name.py b/app/new_name.py\nsimilarity index 90%\n"
    "rename from app/old_name.py\nrename to app/new_name.py\n"
    "--- a/app/old_name.py\n+++ b/app/new_name.py\n@@ -1,2 +1,2 @@\n-a = 1\n+a = 2\n b = 3\n"
    'diff --git "a/odd\\nname.py" "b/odd\\nname.py"\n--- "a/odd\\nname.py"\n'
    '+++ "b/odd\\nname.py"\n@@ -1 +1 @@\n-x\n+y\n'
)


def _f(source: str, path: str, lines: str | None, **over: Any) -> Finding:
    data: dict[str, Any] = {
        "rule": "idempotency",
        "source": source,
        "type": "evidence",
        "category": "api",
        "severity": "major",
        "title": "charge() without an idempotency key",
        "where": {"path": path, "lines": lines, "side": over.pop("side", "RIGHT")},
        "evidence": "`charge(order)` runs on every retry.",
        "recommendation": "Pass an idempotency key.",
    }
    return Finding.model_validate({**data, **over})


def rule(path: str = "app/api.py", lines: str | None = "11", **over: Any) -> Finding:
    return _f("rule", path, lines, **over)


def model(path: str = "app/api.py", lines: str | None = "11", **over: Any) -> Finding:
    return _f("llm", path, lines, **over)


def merge(rules: list[Finding], models: list[Finding]) -> Merged:
    return merge_model_findings(DIFF, rules, models, RepoConfig())


def test_nothing_to_merge() -> None:
    assert merge([rule()], []) == Merged(findings=(), invented_paths=(), repeats=0)


def test_a_finding_on_a_changed_file_is_kept() -> None:
    finding = model(lines="13", category="reliability")
    assert merge([], [finding]) == Merged(findings=(finding,), invented_paths=(), repeats=0)


def test_invented_paths_are_dropped_and_reported_once_each() -> None:
    kept = model("app/new_name.py", "1")
    got = merge(
        [],
        [
            model("app/ghost.py", "3"),
            kept,
            model("app/ghost.py", "9", title="another"),
            model("README.md", None),
        ],
    )
    assert got.findings == (kept,)
    assert got.invented_paths == ("app/ghost.py", "README.md")
    assert got.repeats == 0


def test_a_renamed_files_old_path_is_accepted_under_its_new_path() -> None:
    got = merge([], [model("app/old_name.py", "1", side="LEFT")])
    [finding] = got.findings
    assert (finding.where.path, finding.where.lines, finding.where.side) == (
        "app/new_name.py",
        "1",
        "LEFT",
    )
    assert got.invented_paths == ()


def test_the_old_path_repeats_a_rule_finding_on_the_new_path() -> None:
    got = merge([rule("app/new_name.py", "1")], [model("app/old_name.py", "1")])
    assert (got.findings, got.repeats) == ((), 1)


def test_a_path_as_the_prompt_quotes_it_names_the_file() -> None:
    # The prompt shows a name with a newline in git's quoted form, and the model copies it.
    got = merge([], [model('"odd\\nname.py"', "1")])
    [finding] = got.findings
    assert finding.where.path == "odd\nname.py"
    assert got.invented_paths == ()


@pytest.mark.parametrize(
    ("rule_lines", "model_lines"),
    [("11", "11"), ("11", "10-12"), ("10-12", "12-14"), ("12-14", "10-12"), ("11-12", "12")],
)
def test_overlap_with_a_rule_finding_of_the_same_category_and_side_is_a_repeat(
    rule_lines: str, model_lines: str
) -> None:
    got = merge([rule(lines=rule_lines)], [model(lines=model_lines)])
    assert (got.findings, got.repeats) == ((), 1)


@pytest.mark.parametrize(
    "where",
    [
        {"lines": "12"},  # next to the rule's line, not on it
        {"lines": "12-14"},
        {"lines": "11", "category": "security"},
        {"lines": "11", "side": "LEFT"},
        {"lines": "11", "path": "app/new_name.py"},
        {"lines": None},  # the whole file, where the rule is about one line
    ],
)
def test_other_lines_category_side_or_file_are_kept(where: dict[str, Any]) -> None:
    finding = model(**where)
    got = merge([rule(lines="11")], [finding])
    assert (got.findings, got.repeats) == ((finding,), 0)


SURE = {"type": "evidence", "confidence": 0.9}


@pytest.mark.parametrize(
    ("by_rule", "by_model", "repeat"),
    [
        # The model's would fail the check and the rule's would not: both stay.
        ({"severity": "info", "type": "question"}, {"severity": "critical", **SURE}, False),
        ({"severity": "minor"}, {"severity": "major", **SURE}, False),
        # The rule's fails the check already: one comment is enough.
        ({"severity": "critical", "type": "question"}, {"severity": "critical", **SURE}, True),
        ({"severity": "major"}, {"severity": "critical", **SURE}, True),
        # The model's could not block (a question, unsure, below fail_on): a repeat.
        ({"severity": "info", "type": "question"}, {"severity": "major", "confidence": 0.3}, True),
        ({"severity": "minor"}, {"severity": "critical", "type": "question", "confidence": 1}, 1),
        ({"severity": "info"}, {"severity": "minor", **SURE}, True),
    ],
)
def test_a_rule_finding_stands_in_unless_the_models_alone_would_fail_the_check(
    by_rule: dict[str, Any], by_model: dict[str, Any], repeat: int
) -> None:
    # A route's info question on line 11 must not drop the model's critical evidence there
    # (the gate would never see it), nor put a second comment on the line for nothing.
    finding = model(**by_model)
    got = merge([rule(**by_rule)], [finding])
    assert got.repeats == int(repeat)
    assert got.findings == (() if repeat else (finding,))


def test_with_an_advisory_model_a_rule_finding_always_stands_in() -> None:
    advisory = RepoConfig(model=ModelConfig(blocking=False))
    sure = model(severity="critical", **SURE)
    got = merge_model_findings(DIFF, [rule(severity="info")], [sure], advisory)
    assert (got.findings, got.repeats) == ((), 1)


def test_a_range_ending_before_the_rule_line_is_kept() -> None:
    finding = model(lines="10")
    assert merge([rule(lines="11-12")], [finding]).findings == (finding,)


def test_file_level_findings_repeat_each_other() -> None:
    got = merge([rule(lines=None)], [model(lines=None, title="worded differently")])
    assert (got.findings, got.repeats) == ((), 1)


def test_a_file_level_rule_does_not_swallow_a_line_finding() -> None:
    finding = model(lines="11")
    assert merge([rule(lines=None)], [finding]).findings == (finding,)


def test_repeats_are_counted_and_the_rest_kept_in_order() -> None:
    first, last = model(lines="13"), model(lines="14", category="data")
    got = merge(
        [rule(lines="11"), rule(lines=None, category="security")],
        [first, model(lines="11"), model(lines=None, category="security"), last],
    )
    assert (got.findings, got.repeats) == ((first, last), 2)


def test_rule_findings_are_never_changed() -> None:
    rules = [rule(lines="11"), rule("app/new_name.py", "1"), rule("app/gone.py", None)]
    before = [r.model_copy(deep=True) for r in rules]
    got = merge(rules, [model(lines="11"), model("app/old_name.py", "1"), model(lines="13")])
    assert rules == before
    assert all(f.source.value == "llm" for f in got.findings)


def test_a_rule_finding_passed_as_a_model_finding_is_an_error() -> None:
    with pytest.raises(ValueError, match="model's findings only"):
        merge([], [model(lines="13"), rule(lines="13")])


# --- summaries -------------------------------------------------------------------------------


def summary(text: str, **over: Any) -> ReviewSummary:
    return ReviewSummary.model_validate({"summary": text, "recommendation": "approve", **over})


def test_no_summaries_is_none() -> None:
    assert merge_summaries([]) is None


def test_one_summary_is_unchanged() -> None:
    only = summary("  Adds refunds. ", risks=["Money", "money"])
    assert merge_summaries([only]) is only


def test_several_summaries_are_labelled_by_part() -> None:
    got = merge_summaries([summary(" Adds refunds.\n"), summary("Adds a migration.")])
    assert got is not None
    assert got.summary == "Part 1/2: Adds refunds.\n\nPart 2/2: Adds a migration."


def test_lists_are_joined_without_case_insensitive_repeats() -> None:
    add = NextAction(title="Add the permission check", owner="author", outcome="403 for others")
    again = NextAction(title="add the permission check ", owner="reviewer", outcome="checked")
    other = NextAction(title="Write a rollback", owner="author", outcome="downgrade works")
    got = merge_summaries(
        [
            summary(
                "a", risks=["Refunds are open", "Double charge"], next_actions=[add],
                rationale=["no check"], missing_context=["the spec"],
            ),
            summary(
                "b", risks=["refunds are open ", "Lock on orders"], next_actions=[again, other],
                rationale=["No check", "no downgrade"], missing_context=["The spec", "indexes"],
            ),
        ]
    )  # fmt: skip
    assert got is not None
    assert got.risks == ["Refunds are open", "Double charge", "Lock on orders"]
    assert got.next_actions == [add, other]
    assert got.rationale == ["no check", "no downgrade"]
    assert got.missing_context == ["the spec", "indexes"]


def test_recommendations_are_joined_once_each() -> None:
    got = merge_summaries(
        [
            summary("a", recommendation="request changes"),
            summary("b", recommendation="approve"),
            summary("c", recommendation="request changes"),
            summary("d", recommendation="  "),
        ]
    )
    assert got is not None
    assert got.recommendation == "request changes · approve"
    assert got.summary.count("/4: ") == 4
