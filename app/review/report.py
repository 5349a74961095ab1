"""The local review's output formats: text (`app.review.text_report`), markdown, the findings
JSON, SARIF 2.1.0.

Pure functions of a `ReviewPlan`; the CLI (`app.cli.review`) decides where they go.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import quote

from app.review.findings import Finding, FindingsReport, Severity, Where
from app.review.plan import ReviewPlan
from app.review.text_report import as_text

__all__ = ["as_json", "as_markdown", "as_sarif", "as_text"]

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL_URI = "https://github.com/backend-review/backend-review"


def as_json(plan: ReviewPlan, *, version: str, status: Literal["ready", "partial"]) -> str:
    """The findings JSON (the persona's contract), dismissed findings left out.

    Each `where` is where the finding was anchored, not the lines the model claimed; `anchoring`
    says why for those that moved."""
    live = [_anchored(plan, f) for f in plan.findings if f.id not in set(plan.dismissed)]
    ids = {f.id for f in live}
    advisory = {i: why for i, why in plan.advisory.items() if i in ids}
    anchoring = {i: loc.note for i, loc in plan.locations.items() if i in ids and loc.note}
    report = FindingsReport(
        version=version,
        status=status,
        findings=live,
        summary=plan.summary,
        advisory=advisory,
        anchoring=anchoring,
    )
    # Rules-only output stays as it was: no summary key, no empty advisory or anchoring key.
    empty = {"summary": plan.summary is None, "advisory": not advisory, "anchoring": not anchoring}
    omit = {key for key, is_empty in empty.items() if is_empty}
    return report.model_dump_json(indent=2, exclude=omit or None) + "\n"


def _anchored(plan: ReviewPlan, f: Finding) -> Finding:
    """`f` with `where` set to its anchored location (a suggestion only fits its own lines)."""
    loc = plan.locations.get(f.id)
    if loc is None or (loc.path, loc.lines, loc.side) == (
        f.where.path,
        f.where.lines,
        f.where.side,
    ):
        return f
    where = Where(path=loc.path, lines=loc.lines, side=loc.side)
    return f.model_copy(update={"where": where, "suggestion": None})


def as_markdown(plan: ReviewPlan) -> str:
    """What the PR's summary comment would say."""
    return plan.summary_body + "\n"


_LEVEL = {"failure": "error", "warning": "warning", "notice": "note"}


def as_sarif(
    plan: ReviewPlan, *, version: str, rule_docs: Iterable[tuple[str, str]], fail_on: Severity
) -> str:
    """SARIF 2.1.0 for code scanning and IDEs; `rule_docs` is (rule id, one-line doc) pairs."""
    docs = dict(rule_docs)
    live = [f for f in plan.findings if f.id not in set(plan.dismissed)]
    for f in live:
        docs.setdefault(f.rule, f.rule)
    rule_ids = sorted(docs)
    index = {rule: i for i, rule in enumerate(rule_ids)}
    log: dict[str, Any] = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "backend-review",
                        "version": version,
                        "informationUri": TOOL_URI,
                        "rules": [
                            {"id": rule, "shortDescription": {"text": docs[rule] or rule}}
                            for rule in rule_ids
                        ],
                    }
                },
                "results": [
                    _result(
                        _anchored(plan, f),
                        index[f.rule],
                        fail_on,
                        advisory=f.id in plan.advisory,
                        note=loc.note if (loc := plan.locations.get(f.id)) else "",
                    )
                    for f in live
                ],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _result(
    f: Finding, rule_index: int, fail_on: Severity, *, advisory: bool, note: str
) -> dict[str, Any]:
    if f.severity.at_least(fail_on) and not advisory:
        level = "error"
    else:
        level = "note" if f.severity is Severity.INFO else "warning"
    # A URI reference, not a path: spaces, '#', '%' and non-ASCII are percent-encoded.
    location: dict[str, Any] = {"artifactLocation": {"uri": quote(f.where.path, safe="/")}}
    if f.where.start is not None and f.where.end is not None and f.where.side == "RIGHT":
        location["region"] = {"startLine": f.where.start, "endLine": f.where.end}
    text = f.title
    if note:
        text += f" ({'file level: ' if f.where.lines is None else ''}{note})"
    if f.evidence.strip():
        text += f"\n\n{f.evidence.strip()}"
    if f.failure_scenario and f.failure_scenario.strip():
        text += f"\n\nHow it fails: {f.failure_scenario.strip()}"
    if f.recommendation.strip():
        text += f"\n\nRecommendation: {f.recommendation.strip()}"
    return {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": text},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {"backendReview/v1": f.id},
        "properties": {
            "severity": f.severity.value,
            "category": f.category,
            "type": f.type,
            "source": f.source.value,
        },
    }
