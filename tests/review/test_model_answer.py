"""The submit_review tool: its schema (as the strict API takes it) and the answer's validation."""

from __future__ import annotations

import copy
import json
from typing import Any

import anthropic
import jsonschema
import pytest

from app.llm import ModelRequest
from app.review.findings import Source, findings_schema
from app.review.model_answer import (
    GENERAL_RULE,
    MAX_FINDINGS,
    TOOL_DESCRIPTION,
    TOOL_NAME,
    AnswerError,
    answer_schema,
    parse_answer,
)
from tests.fakes.anthropic_api import FakeAnthropic, request_problem, tool_answer
from tests.llm import Timeline, make_model

RULES = ["authz-boundary", "migration-rollback"]


def finding(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rule": "authz-boundary",
        "type": "evidence",
        "category": "security",
        "severity": "critical",
        "title": "POST /refunds has no permission check",
        "where": {"path": "app/refunds.py", "lines": "12-30"},
        "evidence": "`def refund(order_id)` reads no user.",
        "failure_scenario": "Any logged-in user posts /refunds for someone else's order.",
        "confidence": 0.9,
        "recommendation": "Require payments:refund.",
    }
    data.update(over)
    return data


def answer(*findings: dict[str, Any], **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "findings": list(findings),
        "summary": {
            "summary": "Adds a refunds endpoint without an authorization check.",
            "recommendation": "request changes: the endpoint is open",
            "rationale": ["anyone can refund"],
            "risks": ["money leaves"],
            "nextActions": [{"title": "Add the check", "owner": "author", "outcome": "403"}],
            "missingContext": ["the permission model"],
        },
        "criteria": [],
    }
    data.update(over)
    return data


def problems(data: object, rule_ids: list[str] = RULES) -> list[str]:
    with pytest.raises(AnswerError) as caught:
        parse_answer(data, rule_ids=rule_ids)
    assert str(caught.value) == "; ".join(caught.value.problems)
    return caught.value.problems


def refs(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        own = {schema["$ref"]} if isinstance(schema.get("$ref"), str) else set()
        return own.union(*(refs(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(refs(v) for v in schema))
    return set()


# --- the schema ------------------------------------------------------------------------------


def test_the_finding_schema_leaves_id_and_source_to_the_core() -> None:
    schema = answer_schema(RULES)
    finding_def = schema["$defs"]["Finding"]
    assert not {"id", "source"} & finding_def["properties"].keys()
    assert not {"id", "source"} & set(finding_def["required"])
    assert "Source" not in schema["$defs"]
    # Everything else of the one findings definition is still there.
    full = findings_schema()["$defs"]["Finding"]
    assert finding_def["properties"].keys() == full["properties"].keys() - {"id", "source"}


def test_rule_is_a_checklist_item_or_general() -> None:
    schema = answer_schema(["b", "a", "b"])
    rule = schema["$defs"]["Finding"]["properties"]["rule"]
    assert rule["enum"] == ["b", "a", GENERAL_RULE]
    assert rule["type"] == "string"


def test_general_is_listed_once_when_a_checklist_uses_it_too() -> None:
    rule = answer_schema([GENERAL_RULE, "a"])["$defs"]["Finding"]["properties"]["rule"]
    assert rule["enum"] == [GENERAL_RULE, "a"]


def test_the_answer_is_findings_and_a_summary_under_defs() -> None:
    schema = answer_schema(RULES)
    assert schema["required"] == ["findings", "summary", "criteria"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["summary"] == {"$ref": "#/$defs/ReviewSummary"}
    summary = schema["$defs"]["ReviewSummary"]
    assert "$defs" not in summary
    assert {"nextActions", "missingContext"} <= summary["properties"].keys()
    # Every reference resolves, and nothing is defined that nothing uses.
    assert refs(schema) == {f"#/$defs/{name}" for name in schema["$defs"]}


def test_answer_schema_does_not_change_the_shared_definition() -> None:
    before = findings_schema()
    answer_schema(RULES)
    assert findings_schema() == before


def test_the_schema_accepts_what_parse_answer_accepts() -> None:
    validator = jsonschema.Draft202012Validator(answer_schema(RULES))
    good = answer(finding(), finding(rule=GENERAL_RULE, where={"path": "a.py"}))
    validator.validate(good)
    parse_answer(good, rule_ids=RULES)


@pytest.mark.parametrize(
    "bad",
    [
        answer(finding(severity="blocker")),
        answer(finding(rule="made-up")),
        answer(finding(type="nit")),
        answer(finding(where={"path": "a.py", "lines": "0"})),
        answer(finding(confidence=2)),
        answer(finding(title="")),
        answer(summary=None),
        {"findings": []},
        answer(extra=1),
    ],
)
def test_what_the_schema_refuses_parse_answer_drops_with_a_note(bad: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(answer_schema(RULES))
    assert not validator.is_valid(bad)
    got = parse_answer(bad, rule_ids=RULES)
    # Nothing invalid is kept silently: a note says what was dropped, or the summary is due.
    assert got.notes or got.summary is None
    assert got.findings == ()


async def test_the_strict_api_takes_the_tool_schema() -> None:
    fake = FakeAnthropic()
    sent_answer = answer(finding())
    fake.enqueue(tool_answer(sent_answer))
    schema = answer_schema(RULES)
    request = ModelRequest(
        system=("framing", "persona"),
        user="<<<BEGIN DIFF 0>>>\n+x\n<<<END DIFF 0>>>",
        tool_name=TOOL_NAME,
        tool_description=TOOL_DESCRIPTION,
        input_schema=schema,
    )

    reply = await make_model(fake, Timeline()).review(request)

    [sent] = fake.requests
    [tool] = sent.json["tools"]
    assert (tool["name"], tool["strict"]) == (TOOL_NAME, True)
    assert tool["input_schema"] == anthropic.transform_schema(schema)
    assert parse_answer(reply.tool_input, rule_ids=RULES).findings[0].rule == "authz-boundary"
    # The fake is strict: the same request with one object left open is refused.
    opened = copy.deepcopy(sent.json)
    del opened["tools"][0]["input_schema"]["$defs"]["Where"]["additionalProperties"]
    assert request_problem(sent.json) is None
    assert "additionalProperties" in (request_problem(opened) or "")


# --- parsing the answer ----------------------------------------------------------------------


def test_a_valid_answer() -> None:
    got = parse_answer(
        answer(finding(), finding(rule=GENERAL_RULE, severity="minor")), rule_ids=RULES
    )
    assert [(f.rule, f.severity.value, f.source) for f in got.findings] == [
        ("authz-boundary", "critical", Source.LLM),
        (GENERAL_RULE, "minor", Source.LLM),
    ]
    assert got.findings[0].where.start == 12
    assert got.findings[0].where.end == 30
    assert got.summary.next_actions[0].title == "Add the check"
    assert got.summary.missing_context == ["the permission model"]


def test_no_findings_is_an_answer() -> None:
    assert parse_answer(answer(), rule_ids=[]).findings == ()


def test_the_model_cannot_set_id_or_source() -> None:
    got = parse_answer(answer(finding(id="br-000000000000", source="rule")), rule_ids=RULES)
    [only] = got.findings
    assert (only.id, only.source) == ("", Source.LLM)


@pytest.mark.parametrize("data", [None, [], "findings: []", 3])
def test_not_an_object(data: object) -> None:
    assert problems(data) == ["the tool input must be an object with findings and summary"]


def test_unexpected_top_level_keys_are_ignored_with_a_note() -> None:
    got = parse_answer(answer(finding(), verdict="approve", approve=True), rule_ids=RULES)
    assert len(got.findings) == 1
    assert got.notes == ("unexpected top-level keys ignored: approve, verdict",)


def test_a_missing_summary_keeps_the_findings_and_is_what_the_repair_asks_for() -> None:
    got = parse_answer({"findings": [finding()]}, rule_ids=RULES)
    assert got.summary is None
    assert got.summary_problems == ("summary: missing",)
    assert len(got.findings) == 1


@pytest.mark.parametrize("findings", [None, {"0": {}}, "none"])
def test_findings_not_a_list(findings: object) -> None:
    assert problems(answer(findings=findings)) == ["findings: missing or not a list"]


def test_missing_findings() -> None:
    data = answer()
    del data["findings"]
    assert problems(data) == ["findings: missing or not a list"]


def test_each_bad_finding_is_dropped_alone_and_the_note_says_where() -> None:
    got = parse_answer(
        answer(
            finding(),
            finding(severity="blocker"),
            "not a finding",
            finding(type="nit"),
            finding(title="kept too", where={"path": "a.py", "lines": "9"}, extra="x"),
        ),
        rule_ids=RULES,
    )
    assert [f.title for f in got.findings] == ["POST /refunds has no permission check"]
    [note] = got.notes
    assert note.startswith("4 invalid model finding(s) dropped: findings[1].severity: ")
    assert "findings[2]: must be an object" in note
    assert "findings[3].type: " in note
    assert "findings[4].extra: Extra inputs are not permitted" in note
    assert got.summary is not None


@pytest.mark.parametrize(
    ("lines", "fixed"), [("21-19", "19-21"), ("7-7", "7"), (" 3 - 1 ", "1-3"), ("12", "12")]
)
def test_a_reversed_range_is_put_in_order(lines: str, fixed: str) -> None:
    got = parse_answer(answer(finding(where={"path": "a.py", "lines": lines})), rule_ids=RULES)
    [only] = got.findings
    assert only.where.lines == fixed
    assert got.notes == ()


@pytest.mark.parametrize("lines", ["0", "x-1", "1-2-3", "9" * 5000, "-4"])
def test_an_unreadable_range_drops_that_finding(lines: str) -> None:
    got = parse_answer(
        answer(finding(where={"path": "a.py", "lines": lines}), finding(title="ok")),
        rule_ids=RULES,
    )
    assert [f.title for f in got.findings] == ["ok"]
    assert got.notes[0].startswith("1 invalid model finding(s) dropped: findings[0].where")


def test_a_missing_field_is_named() -> None:
    incomplete = finding()
    del incomplete["evidence"]
    got = parse_answer(answer(incomplete), rule_ids=RULES)
    assert got.notes == (
        "1 invalid model finding(s) dropped: findings[0].evidence: Field required",
    )


def test_summary_problems_are_specific_too() -> None:
    data = answer(finding())
    data["summary"]["nextActions"] = [{"title": "Add the check"}]
    del data["summary"]["recommendation"]
    got = parse_answer(data, rule_ids=RULES)
    assert got.summary is None
    assert len(got.findings) == 1
    assert sorted(got.summary_problems) == [
        "summary.nextActions[0].outcome: Field required",
        "summary.nextActions[0].owner: Field required",
        "summary.recommendation: Field required",
    ]


def test_an_unknown_rule_id_drops_that_finding() -> None:
    got = parse_answer(answer(finding(rule="migration-rollback")), rule_ids=["authz-boundary"])
    assert got.findings == ()
    assert got.notes == (
        "1 invalid model finding(s) dropped: "
        "findings[0].rule: 'migration-rollback' is not a checklist item id",
    )


def test_beyond_the_cap_the_most_severe_are_kept_and_the_cut_is_counted() -> None:
    many = [finding(title=f"minor {i}", severity="minor") for i in range(MAX_FINDINGS)]
    assert len(parse_answer(answer(*many), rule_ids=RULES).findings) == MAX_FINDINGS
    severe = [finding(title=f"critical {i}") for i in range(3)]
    got = parse_answer(answer(*many[:20], *severe, *many[20:]), rule_ids=RULES)
    assert len(got.findings) == MAX_FINDINGS
    titles = [f.title for f in got.findings]
    assert {"critical 0", "critical 1", "critical 2"} <= set(titles)
    # the model's order is kept; the last three minor ones are cut
    assert titles[:21] == [*(f"minor {i}" for i in range(20)), "critical 0"]
    assert "minor 39" not in titles
    assert got.notes == (
        f"3 model finding(s) beyond the cap of {MAX_FINDINGS} were cut (the least severe)",
    )


def test_an_overlong_title_is_clipped_not_refused() -> None:
    item = {
        "rule": "general",
        "type": "evidence",
        "category": "api",
        "severity": "minor",
        "title": "t" * 500,
        "where": {"path": "a.py"},
        "evidence": "e",
        "recommendation": "r",
    }
    data = {"findings": [item], "summary": {"summary": "s", "recommendation": "r"}}

    [finding] = parse_answer(data, rule_ids=[]).findings

    assert len(finding.title) == 200
    assert finding.title.endswith("…")


def test_a_finding_is_asked_for_where_and_why_before_the_verdict() -> None:
    # A model writes properties in the schema's order: the evidence and the concrete failure
    # come before the type, severity and confidence that should follow from them.
    finding_def = anthropic.transform_schema(answer_schema(RULES))["$defs"]["Finding"]
    order = list(finding_def["properties"])
    assert order.index("where") < order.index("evidence") < order.index("failure_scenario")
    for verdict in ("type", "title", "severity", "confidence"):
        assert order.index("failure_scenario") < order.index(verdict)
    assert {"failure_scenario", "confidence"} <= set(finding_def["required"])


def test_the_tool_schema_is_the_same_for_every_review_of_a_repository() -> None:
    # The tool comes first in the cached prefix: nothing of the review may change it.
    assert json.dumps(answer_schema(RULES)) == json.dumps(answer_schema(list(RULES)))
    assert "criteria" in answer_schema(RULES)["properties"]


def test_a_finding_without_a_failure_scenario_is_still_kept() -> None:
    # The tool asks for one, but an answer without it is not thrown away.
    bare = finding()
    del bare["failure_scenario"], bare["confidence"]
    got = parse_answer(answer(bare), rule_ids=RULES)
    assert got.findings[0].failure_scenario is None
    scenario = parse_answer(answer(finding()), rule_ids=RULES).findings[0].failure_scenario
    assert scenario == "Any logged-in user posts /refunds for someone else's order."
