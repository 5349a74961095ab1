"""The findings contract: validation, fingerprints, and the schema the LLM will be given."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from app.review.findings import (
    Finding,
    FindingsReport,
    ReviewSummary,
    Severity,
    Where,
    findings_schema,
    fingerprint,
    summary_schema,
)


def _finding(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "rule": "migration-rollback",
        "source": "rule",
        "type": "evidence",
        "category": "migrations",
        "severity": "major",
        "title": "downgrade() is empty",
        "where": {"path": "alembic/versions/1_add.py", "lines": "12-14"},
        "evidence": "def downgrade(): pass",
        "recommendation": "Drop the column in downgrade().",
    }
    base.update(over)
    return base


def test_a_persona_findings_document_validates() -> None:
    report = FindingsReport.model_validate(
        {"version": "1", "status": "ready", "findings": [_finding()]}
    )
    where = report.findings[0].where
    assert (where.start, where.end, where.side) == (12, 14, "RIGHT")


@pytest.mark.parametrize(
    "where",
    [
        {"path": "x.py", "lines": "0"},
        {"path": "x.py", "lines": "12-"},
        {"path": "x.py", "lines": "20-10"},
        {"path": "", "lines": "1"},
        {"path": "x.py", "side": "BOTH"},
        {"path": "x.py", "line": 3},
    ],
)
def test_bad_locations_are_rejected(where: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Finding.model_validate(_finding(where=where))


@pytest.mark.parametrize(
    "over",
    [{"severity": "blocker"}, {"source": "human"}, {"confidence": 1.5}, {"title": ""}, {"x": 1}],
)
def test_bad_fields_are_rejected(over: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Finding.model_validate(_finding(**over))


def test_fingerprint_ignores_whitespace_but_not_content() -> None:
    a = fingerprint("secrets", "app/x.py", "  token = 'abc'  ")
    assert a == fingerprint("secrets", "app/x.py", "token =   'abc'")
    assert a.startswith("br-")
    assert len(a) == 15
    assert a != fingerprint("secrets", "app/y.py", "token = 'abc'")
    assert a != fingerprint("secrets", "app/x.py", "token = 'abd'")
    assert a != fingerprint("other", "app/x.py", "token = 'abc'")


def test_severity_order() -> None:
    assert Severity.CRITICAL.at_least(Severity.MAJOR)
    assert not Severity.MINOR.at_least(Severity.MAJOR)
    assert sorted(Severity, key=lambda s: s.rank) == [
        Severity.INFO,
        Severity.MINOR,
        Severity.MAJOR,
        Severity.CRITICAL,
    ]


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return own.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


@pytest.mark.parametrize("schema", [findings_schema(), summary_schema()])
def test_schemas_are_strict_and_acyclic(schema: dict[str, Any]) -> None:
    defs = schema.get("$defs", {})
    assert _refs(schema) <= set(defs)
    for name, body in defs.items():
        seen, todo = set(), set(_refs(body))
        while todo:
            ref = todo.pop()
            assert ref != name, f"$ref cycle through {name}"
            if ref not in seen:
                seen.add(ref)
                todo |= _refs(defs[ref])
    objects = [schema, *(d for d in defs.values() if d.get("type") == "object")]
    assert all(o["additionalProperties"] is False for o in objects)
    json.dumps(schema)


def test_summary_uses_the_personas_camel_case_keys() -> None:
    summary = ReviewSummary.model_validate(
        {
            "summary": "s",
            "recommendation": "approve",
            "nextActions": [{"title": "t", "owner": "o", "outcome": "x"}],
            "missingContext": ["ticket"],
        }
    )
    dumped = summary.model_dump()
    assert dumped["nextActions"][0]["owner"] == "o"
    assert dumped["missingContext"] == ["ticket"]
    assert "nextActions" in summary_schema()["properties"]


def test_where_without_lines_is_file_level() -> None:
    where = Where(path="x.py")
    assert (where.start, where.end) == (None, None)
