"""The model's answer: the `submit_review` tool's schema, and its validation into core types.

The tool's input is our findings contract minus what the core owns (`id`, the fingerprint, and
`source`, always `llm`), plus the structured summary. `rule` is limited to the persona's
checklist item ids (and `general`), so a finding keeps the same rule, and therefore the same
fingerprint, from one push to the next.

A model writes its answer in the schema's property order, so a finding asks for the location,
the evidence and the concrete failure scenario first, and only then for the verdict (type,
title, severity, confidence): the model commits to a severity after writing down why. The
schema is the same for every review of a repository (with or without linked issues'
acceptance criteria: `criteria` is always there, an empty list when there are none), so the
tool definition, the first part of the cached prompt prefix, is shared across reviews.
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
# The order a finding is written in: where and why first, the verdict after.
GENERATION_ORDER = (
    "where",
    "evidence",
    "failure_scenario",
    "type",
    "category",
    "rule",
    "title",
    "severity",
    "confidence",
    "recommendation",
    "suggestion",
)
# Optional in the contract (rule findings have none), asked of every model finding.
_ASKED = ("failure_scenario", "confidence")
_SCENARIO = (
    "the concrete failure: which input or sequence of events, through the lines cited, leads "
    "to what wrong outcome; for a question, what would go wrong if the doubt is right; for a "
    "suggestion, what it improves"
)


class AnswerError(ValueError):
    """The answer cannot be used at all; `problems` has one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True, slots=True)
class ModelAnswer:
    """What was usable of one answer.

    `summary` is None when the model gave none or an invalid one: the caller asks for it in a
    repair turn (the findings are kept meanwhile). `notes` say what was dropped or cut, and why.
    """

    findings: tuple[Finding, ...]
    summary: ReviewSummary | None
    criteria: tuple[CriterionVerdict, ...] = ()
    notes: tuple[str, ...] = ()
    summary_problems: tuple[str, ...] = ()  # why `summary` is None, for the repair turn

    def followed_by(self, later: ModelAnswer) -> ModelAnswer:
        """This answer and a later call's for the same part, without repeats: the later
        findings, and those of this one the later did not repeat (the same rule, category,
        file and lines, or at file level the same title); the later summary and verdicts, else
        these. A repair turn's answer completes a first one this way, and the larger retry's
        answer the complete findings of one cut off at its output limit."""
        seen = {_concern(f) for f in later.findings}
        notes = list(dict.fromkeys(self.notes + later.notes))
        findings = _capped(
            [*later.findings, *(f for f in self.findings if _concern(f) not in seen)], notes
        )
        summary = later.summary or self.summary
        return ModelAnswer(
            findings=tuple(findings),
            summary=summary,
            criteria=later.criteria or self.criteria,
            notes=tuple(dict.fromkeys(notes)),
            summary_problems=later.summary_problems if summary is None else (),
        )


def answer_schema(rule_ids: Sequence[str]) -> dict[str, Any]:
    """JSON Schema of the tool input, derived from the one findings and summary definition.

    It depends on the checklists' item ids only (the repository's persona), never on the
    review: the acceptance criteria verdicts are always asked for, empty when there are none.
    """
    report = findings_schema()
    defs: dict[str, Any] = copy.deepcopy(report["$defs"])
    finding = defs["Finding"]
    properties = finding["properties"]
    properties["rule"] = {
        "enum": list(dict.fromkeys([*rule_ids, GENERAL_RULE])),  # a checklist may say general
        "description": "the checklist item this finding is about; general when none fits",
        "type": "string",
    }
    properties["failure_scenario"] = {"type": "string", "description": _SCENARIO}
    properties["confidence"] = {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "description": "how sure you are, as the system prompt defines the levels",
    }
    finding["properties"] = {k: properties[k] for k in GENERATION_ORDER}
    required = {*finding["required"], *_ASKED} - set(_CORE_OWNED)
    finding["required"] = [k for k in GENERATION_ORDER if k in required]
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
            "criteria": {
                "type": "array",
                "items": {"$ref": "#/$defs/CriterionVerdict"},
                "description": (
                    "one verdict per acceptance criterion of each TICKET block; an empty list "
                    "when no TICKET block lists acceptance criteria"
                ),
            },
        },
        "required": ["findings", "summary", "criteria"],
        "$defs": defs,
    }
    verdict = CriterionVerdict.model_json_schema()
    verdict["additionalProperties"] = False
    defs["CriterionVerdict"] = verdict
    return schema


def parse_answer(data: object, *, rule_ids: Sequence[str], criteria: bool = False) -> ModelAnswer:
    """Keep what is valid of the tool input, finding by finding.

    An invalid finding (an unknown key, a value outside its enum) is dropped with a note, the
    others are kept; a reversed range ("21-19") and a diff prefix on a path (`a/`, `b/`, `./`)
    are put right, not refused. Beyond `MAX_FINDINGS`, the most severe are kept and the note
    says how many were cut. Raises `AnswerError` only when nothing can be taken from the
    answer (not an object, or no findings list).
    """
    if not isinstance(data, dict):
        raise AnswerError(["the tool input must be an object with findings and summary"])
    if not isinstance(data.get("findings"), list):
        raise AnswerError(["findings: missing or not a list"])
    notes: list[str] = []
    allowed = {"findings", "summary", "criteria"}  # the schema always asks for criteria
    extra = sorted(set(data) - allowed)
    if extra:
        notes.append(f"unexpected top-level keys ignored: {', '.join(extra)}")
    summary_problems: list[str] = []
    summary = _summary(data.get("summary"), summary_problems)
    findings = _findings(data["findings"], set(rule_ids) | {GENERAL_RULE}, notes)
    # Verdicts when none were asked for (no TICKET block listed criteria) are not read.
    verdicts = _criteria(data.get("criteria"), notes) if criteria else []
    return ModelAnswer(
        findings=tuple(findings),
        summary=summary,
        criteria=tuple(verdicts),
        notes=tuple(notes),
        summary_problems=tuple(summary_problems),
    )


def parse_cut_answer(
    data: object, *, rule_ids: Sequence[str], criteria: bool = False
) -> ModelAnswer:
    """What was surely complete of a tool input cut off at the output limit (`max_tokens`).

    Without streaming the API sends a tool parameter only once its JSON is complete; a streamed
    answer is rebuilt by the SDK from partial JSON, so the parameter being written at the cut
    can be there, shortened (a finding whose `suggestion` or `recommendation` stops mid-line
    would still validate). Either way the parameter written last (the last key, in the order
    the model wrote them) is not trusted: a list loses its last item, anything else is
    dropped. Everything before it is whole, each finding validated as in `parse_answer`. Never
    raises: what is not there is simply not kept (the larger retry asks again)."""
    if not isinstance(data, dict):
        return ModelAnswer(findings=(), summary=None, summary_problems=("summary: missing",))
    whole = dict(data)
    if whole:
        last = next(reversed(whole))
        if isinstance(whole[last], list):
            whole[last] = whole[last][:-1]
        else:
            del whole[last]
    if not isinstance(whole.get("findings"), list):
        whole["findings"] = []
    return parse_answer(whole, rule_ids=rule_ids, criteria=criteria)


def _criteria(raw: object, notes: list[str]) -> list[CriterionVerdict]:
    if raw is None:
        return []  # no verdicts: the table says the model gave none
    if not isinstance(raw, list):
        notes.append("criteria: not a list, ignored")
        return []
    out: list[CriterionVerdict] = []
    for i, item in enumerate(raw[:200]):
        if isinstance(item, dict) and "evidence" in item:
            item = {**item, "evidence": _clip(item["evidence"], MAX_EVIDENCE_CHARS)}
        try:
            out.append(CriterionVerdict.model_validate(item))
        except ValidationError as exc:
            notes.append(f"criteria[{i}] dropped: {_problem('', exc.errors()[0]).lstrip('.')}")
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


MAX_READ = 400  # findings validated per answer: beyond this the rest is not even looked at


def _findings(raw: list[object], rules: set[str], notes: list[str]) -> list[Finding]:
    out: list[Finding] = []
    dropped: list[str] = []
    for i, item in enumerate(raw[:MAX_READ]):
        problems = _finding(i, item, rules, out)
        dropped += problems[:3]  # one bad finding must not flood the summary
    if dropped:
        bad = len({p.split(":", 1)[0].split(".", 1)[0] for p in dropped})
        notes.append(f"{bad} invalid model finding(s) dropped: {'; '.join(dropped[:5])}")
    if len(raw) > MAX_READ:
        notes.append(f"{len(raw) - MAX_READ} model finding(s) beyond {MAX_READ} were not read")
    return _capped(out, notes)


def _capped(out: list[Finding], notes: list[str]) -> list[Finding]:
    """At most MAX_FINDINGS: the most severe; among equals, the model's own order."""
    if len(out) <= MAX_FINDINGS:
        return out
    ranked = sorted(range(len(out)), key=lambda j: (-out[j].severity.rank, j))
    keep = sorted(ranked[:MAX_FINDINGS])
    notes.append(
        f"{len(out) - MAX_FINDINGS} model finding(s) beyond the cap of {MAX_FINDINGS} were "
        "cut (the least severe)"
    )
    return [out[j] for j in keep]


def _concern(finding: Finding) -> tuple[str, ...]:
    """What makes two findings of one part the same: where and what kind, not the wording;
    at file level there is no line to tell them apart, so the title does. Evidence and a
    question are not the same concern: the plan keeps the one that may block."""
    where = finding.where
    at = where.lines if where.lines else f"file\0{finding.title}"
    return (finding.rule, finding.category, where.path, where.side, at, finding.type)


def _finding(i: int, item: object, rules: set[str], out: list[Finding]) -> list[str]:
    """Validate one finding into `out`; the problems that made it unusable, if any."""
    if not isinstance(item, dict):
        return [f"findings[{i}]: must be an object"]
    fields = {k: v for k, v in item.items() if k not in _CORE_OWNED}
    # Strict tool schemas cannot enforce lengths (they move into the description): clip
    # rather than throw away a finding for one long title.
    if "title" in fields:
        fields["title"] = _clip(fields["title"], MAX_TITLE_CHARS)
    if isinstance(fields.get("where"), dict):
        fields["where"] = _where(fields["where"])
    try:
        finding = Finding.model_validate({**fields, "source": Source.LLM.value})
    except ValidationError as exc:
        return [_problem(f"findings[{i}]", e) for e in exc.errors()]
    if finding.rule not in rules:
        return [f"findings[{i}].rule: {finding.rule!r} is not a checklist item id"]
    out.append(finding)
    return []


def _where(where: dict[str, Any]) -> dict[str, Any]:
    """A range as the model may write it, put right: "21-19" is lines 19-21. (A path's `b/`
    prefix is put right against the diff, in `model_merge`.)"""
    out = dict(where)
    lines = out.get("lines")
    if isinstance(lines, str) and len(lines) <= 40:  # bounded: int() of a huge string is slow
        lines = lines.strip()
        first, sep, last = lines.partition("-")
        if sep and first.strip().isdigit() and last.strip().isdigit():
            low, high = sorted((int(first), int(last)))
            lines = str(low) if low == high else f"{low}-{high}"
        out["lines"] = lines
    return out


def _clip(value: object, limit: int) -> object:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def _problem(prefix: str, error: Any) -> str:
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
    return f"{prefix}{loc}: {error['msg']}"
