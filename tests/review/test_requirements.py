"""Acceptance criteria: combining the model's verdicts, the summary table, the findings."""

from __future__ import annotations

from app.review.findings import Severity, Source
from app.review.model_answer import answer_schema, parse_answer
from app.review.requirements import (
    Criteria,
    CriterionVerdict,
    combine,
    criteria_table,
    missing_issue_finding,
    unmet_findings,
)

ENG = Criteria(
    "ENG-123",
    "Refunds",
    "https://linear.app/acme/issue/ENG-123/refunds",
    ("Refunds are idempotent", "An audit row is written | with the amount"),
)


def verdict(criterion: int, status: str, evidence: str = "app/api.py:12") -> CriterionVerdict:
    return CriterionVerdict.model_validate(
        {"ticket": "ENG-123", "criterion": criterion, "status": status, "evidence": evidence}
    )


def test_met_in_any_part_wins_then_not_met_then_unclear() -> None:
    parts = [verdict(1, "unclear"), verdict(1, "met"), verdict(1, "not met"), verdict(2, "unclear")]
    parts += [verdict(2, "not met", "no audit call"), verdict(9, "met")]  # no criterion 9

    best = combine([ENG], parts)

    assert {k: v.status for k, v in best.items()} == {
        ("ENG-123", 1): "met",
        ("ENG-123", 2): "not met",
    }


def test_the_table_quotes_every_criterion_with_its_status() -> None:
    table = criteria_table([ENG], combine([ENG], [verdict(1, "met")]))

    lines = table.splitlines()
    assert lines[0] == "| Issue | Criterion | Status | Evidence |"
    assert lines[2] == (
        "| [ENG-123](https://linear.app/acme/issue/ENG-123/refunds) | Refunds are idempotent "
        "| ✅ met | app/api.py:12 |"
    )
    assert (
        "An audit row is written \\| with the amount | ❔ unclear | the model gave no verdict"
        in (lines[3])
    )


def test_each_unmet_criterion_is_its_own_requirements_finding() -> None:
    best = combine([ENG], [verdict(1, "not met", "no key"), verdict(2, "not met", "no row")])

    findings = unmet_findings([ENG], best)

    assert [f.where.path for f in findings] == ["ENG-123#1", "ENG-123#2"]
    assert len({f.id for f in findings}) == 2
    assert all(f.category == "requirements" and f.source is Source.LLM for f in findings)
    assert findings[0].title == "ENG-123 criterion 1 not met: Refunds are idempotent"
    assert unmet_findings([ENG], combine([ENG], [verdict(1, "met")])) == []


def test_a_required_but_missing_issue_is_a_blocking_rule_finding() -> None:
    finding = missing_issue_finding()
    assert (finding.source, finding.severity, finding.category) == (
        Source.RULE,
        Severity.MAJOR,
        "requirements",
    )
    assert finding.id == missing_issue_finding().id


def test_the_answer_schema_always_asks_for_criteria_so_it_never_changes() -> None:
    schema = answer_schema(["a.b"])

    # Always there (an empty list when no ticket lists criteria): a schema that changed with
    # the linked issues would change the cached prompt prefix, tools first, with them.
    assert "criteria" in schema["required"]
    assert "empty list" in schema["properties"]["criteria"]["description"]
    verdict_schema = schema["$defs"]["CriterionVerdict"]
    assert verdict_schema["properties"]["status"]["enum"] == ["met", "not met", "unclear"]


def test_verdicts_are_validated_with_the_answer() -> None:
    base = {"findings": [], "summary": {"summary": "s", "recommendation": "r"}}
    good = base | {
        "criteria": [{"ticket": "ENG-1", "criterion": 1, "status": "met", "evidence": "x"}]
    }
    bad = base | {
        "criteria": [{"ticket": "ENG-1", "criterion": 0, "status": "done", "evidence": ""}]
    }

    assert parse_answer(good, rule_ids=[], criteria=True).criteria[0].status == "met"
    # An invalid verdict is dropped with a note; the rest of the answer is kept.
    kept = parse_answer(bad, rule_ids=[], criteria=True)
    assert kept.criteria == ()
    assert kept.notes[0].startswith("criteria[0] dropped: criterion")
    # Without criteria in the prompt, verdicts are not read (and the key is expected).
    unasked = parse_answer(good, rule_ids=[])
    assert unasked.notes == ()
    assert unasked.criteria == ()
