"""The local review's output formats: text, markdown, the findings JSON, SARIF 2.1.0.

Pure functions of a `ReviewPlan`; the CLI (`app.cli.review`) decides where they go.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import quote

from app.review.findings import Finding, FindingsReport, Severity, Where
from app.review.plan import ReviewPlan

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL_URI = "https://github.com/backend-review/backend-review"

_COLOURS = {
    Severity.CRITICAL: "\x1b[1;31m",
    Severity.MAJOR: "\x1b[31m",
    Severity.MINOR: "\x1b[33m",
    Severity.INFO: "\x1b[36m",
}
_RESET, _BOLD, _DIM, _GREEN, _RED = "\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[32m", "\x1b[1;31m"


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


def as_text(plan: ReviewPlan, *, mode: str, color: bool) -> str:
    """A terminal report: one block per finding, then the verdict."""

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    where = _where_by_id(plan)
    out = [paint(_BOLD, f"backend-review ({mode})"), ""]
    if plan.summary is not None:
        out += [f"  {line}" for line in plan.summary.summary.strip().splitlines() if line.strip()]
        if plan.summary.recommendation.strip():
            out.append(f"  Recommendation: {plan.summary.recommendation.strip()}")
        out.append("")
    live = [f for f in plan.findings if f.id not in set(plan.dismissed)]
    for f in live:
        label = paint(_COLOURS[f.severity], f"{f.severity.value.upper():<8}")
        out.append(
            f"{label} {where.get(f.id, f.where.path)}  {f.title}  {paint(_DIM, f'[{f.rule}]')}"
        )
        if f.id in plan.advisory:
            out.append(paint(_DIM, f"         advisory, does not block: {plan.advisory[f.id]}"))
        for text in (f.evidence, f"→ {f.recommendation}" if f.recommendation else ""):
            out += [f"         {line}" for line in text.strip().splitlines() if line.strip()]
        out.append("")
    if not live:
        out += ["No findings.", ""]
    for skipped in plan.not_reviewed:
        out.append(paint(_DIM, f"not reviewed: {skipped.path} ({skipped.reason})"))
    if plan.not_reviewed:
        out.append("")
    verdict = {"failure": paint(_RED, "FAIL"), "success": paint(_GREEN, "PASS")}.get(
        plan.conclusion, "NEUTRAL"
    )
    out.append(f"{verdict}: {plan.check_title}")
    return "\n".join(out) + "\n"


def _where_by_id(plan: ReviewPlan) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in plan.findings:
        loc = plan.locations.get(f.id)
        if loc is None:
            out[f.id] = f"{f.where.path}:{f.where.lines}" if f.where.lines else f.where.path
        elif loc.lines:
            out[f.id] = f"{loc.path}:{loc.lines}"
        else:
            out[f.id] = f"{loc.path} (file level: {loc.note})" if loc.note else loc.path
    return out


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
