"""What is kept of an answer cut off at its output limit, and how a later answer completes it."""

from __future__ import annotations

from typing import Any

import pytest

from app.review.model_answer import MAX_FINDINGS, ModelAnswer, parse_answer, parse_cut_answer
from tests.review.test_model_answer import RULES, answer, finding


def _parse(data: dict[str, Any]) -> ModelAnswer:
    return parse_answer(data, rule_ids=RULES)


@pytest.mark.parametrize("data", [None, {}, {"summary": answer()["summary"]}, "cut"])
def test_nothing_complete_is_an_empty_answer_never_an_error(data: object) -> None:
    got = parse_cut_answer(data, rule_ids=RULES)
    assert got.findings == ()


def test_the_findings_of_a_cut_answer_are_validated_one_by_one() -> None:
    second = finding(title="second", where={"path": "app/refunds.py", "lines": "2"})
    # Cut while the summary was being written: it is not trusted, the findings before it are.
    data = {"findings": [finding(), finding(severity="urgent"), second], "summary": {"summ": 1}}

    got = parse_cut_answer(data, rule_ids=RULES)

    assert [f.title for f in got.findings] == ["POST /refunds has no permission check", "second"]
    assert got.summary is None
    assert got.notes[0].startswith("1 invalid model finding(s) dropped: findings[1].severity")


def test_the_finding_being_written_at_the_cut_is_not_kept_even_if_it_validates() -> None:
    # A streamed answer cut inside its last finding: the SDK's partial JSON gives a finding
    # whose suggestion stops mid-line. It would validate; it is not trusted.
    cut = finding(title="cut", suggestion="if not user.can(")
    data = {"summary": answer()["summary"], "findings": [finding(), cut]}

    got = parse_cut_answer(data, rule_ids=RULES)

    assert [f.title for f in got.findings] == ["POST /refunds has no permission check"]
    assert got.summary is not None


def test_a_summary_finished_before_the_cut_is_kept() -> None:
    got = parse_cut_answer(answer(finding()), rule_ids=RULES)
    assert got.summary is not None
    assert len(got.findings) == 1


def test_a_later_answer_wins_repeats_and_keeps_what_only_the_earlier_had() -> None:
    earlier = _parse(
        {"findings": [finding(), finding(title="earlier only", rule="migration-rollback")]}
    )
    reworded = finding(title="Refunds need a permission", evidence="said otherwise")
    later = _parse(answer(reworded))

    got = earlier.followed_by(later)

    assert [f.title for f in got.findings] == ["Refunds need a permission", "earlier only"]
    assert got.summary == later.summary


@pytest.mark.parametrize(
    ("change", "repeated"),
    [
        ({"title": "other words"}, True),  # the same rule, category, file and lines
        ({"where": {"path": "app/refunds.py", "lines": "31"}}, False),
        ({"category": "api"}, False),
        ({"where": {"path": "app/other.py", "lines": "12-30"}}, False),
        ({"where": {"path": "app/refunds.py", "lines": "12-30", "side": "LEFT"}}, False),
        # A later guess does not replace earlier evidence (the plan keeps the one that blocks).
        ({"type": "question", "confidence": 0.1}, False),
    ],
)
def test_what_counts_as_the_same_concern(change: dict[str, Any], repeated: bool) -> None:
    earlier = _parse({"findings": [finding()]})
    later = _parse(answer(finding(**change)))

    got = earlier.followed_by(later)

    assert len(got.findings) == (1 if repeated else 2)


def test_at_file_level_the_title_tells_concerns_apart() -> None:
    at_file = {"path": "app/refunds.py"}
    earlier = _parse({"findings": [finding(where=at_file, title="a"), finding(where=at_file)]})
    later = _parse(answer(finding(where=at_file, title="b")))

    got = earlier.followed_by(later)

    assert sorted(f.title for f in got.findings) == [
        "POST /refunds has no permission check",
        "a",
        "b",
    ]


def test_the_earlier_summary_stays_when_the_later_has_none() -> None:
    earlier = _parse(answer(finding()))
    later = _parse({"findings": []})

    got = earlier.followed_by(later)

    assert got.summary == earlier.summary
    assert got.summary_problems == ()


def test_merged_findings_keep_the_cap_and_say_so() -> None:
    many = [finding(title=f"t{i}", where={"path": f"f{i}.py"}, severity="minor") for i in range(30)]
    more = [finding(title=f"u{i}", where={"path": f"g{i}.py"}) for i in range(30)]

    got = _parse({"findings": many}).followed_by(_parse(answer(*more)))

    assert len(got.findings) == MAX_FINDINGS
    assert all(f.severity.value == "critical" for f in got.findings[:30])
    assert f"20 model finding(s) beyond the cap of {MAX_FINDINGS} were cut" in got.notes[-1]
