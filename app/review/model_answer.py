"""The model's answer: the `submit_review` tool's schema, and its validation into core types.

The tool's input is our findings contract minus what the core owns (`id`, the fingerprint, and
`source`, always `llm`), plus the structured summary. `rule` is limited to the persona's
checklist item ids (and `general`), so a finding keeps the same rule, and therefore the same
fingerprint, from one push to the next.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.review.findings import Finding, ReviewSummary, Source, findings_schema, summary_schema
from app.review.requirements import CriterionVerdict

TOOL_NAME = "submit_review"
TOOL_DESCRIPTION = (
    "Submit the review of the diff shown: the findings (possibly none) and the structured "
    "summary. Call it exactly once."
)
GENERAL_RULE = "general"
MAX_TITLE_CHARS = 200  # Finding.title's limit
MAX_EVIDENCE_CHARS = 1_000  # CriterionVerdict.evidence's limit
MAX_FINDINGS = 40  # per call: more than this is noise, and a long answer risks max_tokens

_CORE_OWNED = ("id", "source")


class AnswerError(ValueError):
    """The answer does not fit the contract; `problems` has one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True, slots=True)
class ModelAnswer:
    findings: tuple[Finding, ...]
    summary: ReviewSummary
    criteria: tuple[CriterionVerdict, ...] = ()


def answer_schema(rule_ids: Sequence[str], *, criteria: bool = False) -> dict[str, Any]:
    """JSON Schema of the tool input, derived from the one findings and summary definition.

    With `criteria` (the prompt lists linked issues' acceptance criteria), the answer also
    carries a verdict per criterion.
    """
    report = findings_schema()
    defs: dict[str, Any] = copy.deepcopy(report["$defs"])
    finding = defs["Finding"]
    for key in _CORE_OWNED:
        finding["properties"].pop(key, None)
    finding["required"] = [k for k in finding["required"] if k not in _CORE_OWNED]
    finding["properties"]["rule"] = {
        "enum": list(dict.fromkeys([*rule_ids, GENERAL_RULE])),  # a checklist may say general
        "description": "the checklist item this finding is about; general when none fits",
        "type": "string",
    }
    defs.pop("Source", None)
    summary = summary_schema()
    defs.update(summary.pop("$defs", {}))
    defs["ReviewSummary"] = summary
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "findings": {
                "type": "array",
                "items": {"$ref": "#/$defs/Finding"},
                "description": f"at most {MAX_FINDINGS}; an empty list when nothing is wrong",
            },
            "summary": {"$ref": "#/$defs/ReviewSummary"},
        },
        "required": ["findings", "summary"],
        "$defs": defs,
    }
    if criteria:
        verdict = CriterionVerdict.model_json_schema()
        verdict["additionalProperties"] = False
        defs["CriterionVerdict"] = verdict
        schema["properties"]["criteria"] = {
            "type": "array",
            "items": {"$ref": "#/$defs/CriterionVerdict"},
            "description": "one verdict per acceptance criterion of each TICKET block",
        }
        schema["required"].append("criteria")
    return schema


def parse_answer(data: object, *, rule_ids: Sequence[str], criteria: bool = False) -> ModelAnswer:
    """Validate the tool input; raise `AnswerError` listing every problem (for the repair turn)."""
    if not isinstance(data, dict):
        raise AnswerError(["the tool input must be an object with findings and summary"])
    problems: list[str] = []
    allowed = {"findings", "summary", *(["criteria"] if criteria else [])}
    extra = sorted(set(data) - allowed)
    if extra:
        problems.append(f"unexpected top-level keys: {', '.join(extra)}")
    summary = _summary(data.get("summary"), problems)
    findings = _findings(data.get("findings"), set(rule_ids) | {GENERAL_RULE}, problems)
    verdicts = _criteria(data.get("criteria"), problems) if criteria else []
    if problems or summary is None:
        raise AnswerError(problems or ["summary: missing"])
    return ModelAnswer(findings=tuple(findings), summary=summary, criteria=tuple(verdicts))


def _criteria(raw: object, problems: list[str]) -> list[CriterionVerdict]:
    if raw is None:
        return []  # no verdicts: the table says the model gave none
    if not isinstance(raw, list):
        problems.append("criteria: must be a list")
        return []
    out: list[CriterionVerdict] = []
    for i, item in enumerate(raw[:200]):
        if isinstance(item, dict) and "evidence" in item:
            item = {**item, "evidence": _clip(item["evidence"], MAX_EVIDENCE_CHARS)}
        try:
            out.append(CriterionVerdict.model_validate(item))
        except ValidationError as exc:
            problems += [_problem(f"criteria[{i}]", e) for e in exc.errors()]
    return out


def _summary(raw: object, problems: list[str]) -> ReviewSummary | None:
    if raw is None:
        problems.append("summary: missing")
        return None
    try:
        return ReviewSummary.model_validate(raw)
    except ValidationError as exc:
        problems += [_problem("summary", e) for e in exc.errors()]
        return None


def _findings(raw: object, rules: set[str], problems: list[str]) -> list[Finding]:
    if not isinstance(raw, list):
        problems.append("findings: missing or not a list")
        return []
    if len(raw) > MAX_FINDINGS:
        problems.append(f"findings: {len(raw)} given, at most {MAX_FINDINGS}: keep the important")
    out: list[Finding] = []
    for i, item in enumerate(raw[:MAX_FINDINGS]):
        if not isinstance(item, dict):
            problems.append(f"findings[{i}]: must be an object")
            continue
        fields = {k: v for k, v in item.items() if k not in _CORE_OWNED}
        # Strict tool schemas cannot enforce lengths (they move into the description): clip
        # rather than throw away a whole answer for one long title.
        if "title" in fields:
            fields["title"] = _clip(fields["title"], MAX_TITLE_CHARS)
        try:
            finding = Finding.model_validate({**fields, "source": Source.LLM.value})
        except ValidationError as exc:
            problems += [_problem(f"findings[{i}]", e) for e in exc.errors()]
            continue
        if finding.rule not in rules:
            problems.append(f"findings[{i}].rule: {finding.rule!r} is not a checklist item id")
            continue
        out.append(finding)
    return out


def _clip(value: object, limit: int) -> object:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def _problem(prefix: str, error: Any) -> str:
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
    return f"{prefix}{loc}: {error['msg']}"
