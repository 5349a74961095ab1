"""Linked issues' acceptance criteria: the model's verdict on each, the summary's table, and the
findings an unmet criterion or a missing link becomes (pure).

The model answers per criterion (`met`, `not met`, `unclear`, with evidence). A large pull
request is reviewed in parts, each seeing only some files, so verdicts are combined: `met` in
any part wins (some part shows it done), then `not met`, then `unclear`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.review.findings import Finding, Severity, Source, fingerprint
from app.review.markers import defuse

Status = Literal["met", "not met", "unclear"]
_RANK: Mapping[str, int] = {"met": 2, "not met": 1, "unclear": 0}
_ICON: Mapping[str, str] = {"met": "✅", "not met": "❌", "unclear": "❔"}

CRITERION_RULE = "requirements.criterion"
MISSING_ISSUE_RULE = "linear-issue-missing"
PULL_REQUEST = "(pull request)"  # where a finding about the whole pull request points


class CriterionVerdict(BaseModel):
    """The model's answer for one criterion of one linked issue (part of the tool input)."""

    model_config = ConfigDict(extra="forbid")

    ticket: str = Field(
        min_length=1, max_length=40, description="the issue identifier, e.g. ENG-123"
    )
    criterion: int = Field(ge=1, le=100, description="the criterion's number in the TICKET block")
    status: Status
    evidence: str = Field(
        max_length=1_000,
        description="the file and lines that show it met or not met, or what is missing to tell",
    )


@dataclass(frozen=True, slots=True)
class Criteria:
    """One linked issue's acceptance criteria, as given to the model."""

    ticket: str
    title: str
    url: str
    items: tuple[str, ...]


def combine(
    criteria: Sequence[Criteria], verdicts: Sequence[CriterionVerdict]
) -> dict[tuple[str, int], CriterionVerdict]:
    """The best verdict per (ticket, criterion) that exists; answers about others are dropped."""
    known = {(c.ticket, i) for c in criteria for i in range(1, len(c.items) + 1)}
    best: dict[tuple[str, int], CriterionVerdict] = {}
    for verdict in verdicts:
        key = (verdict.ticket, verdict.criterion)
        if key not in known:
            continue
        held = best.get(key)
        if held is None or _RANK[verdict.status] > _RANK[held.status]:
            best[key] = verdict
    return best


def criteria_table(
    criteria: Sequence[Criteria], verdicts: Mapping[tuple[str, int], CriterionVerdict]
) -> str:
    """The summary's section: every criterion of every linked issue, with its status."""
    rows = ["| Issue | Criterion | Status | Evidence |", "|---|---|---|---|"]
    for c in criteria:
        for i, item in enumerate(c.items, 1):
            v = verdicts.get((c.ticket, i))
            status = v.status if v is not None else "unclear"
            evidence = v.evidence if v is not None else "the model gave no verdict"
            rows.append(
                f"| [{_cell(c.ticket)}]({_url(c.url)}) | {_cell(item)} "
                f"| {_ICON[status]} {status} | {_cell(evidence)} |"
            )
    return "\n".join(rows)


def unmet_findings(
    criteria: Sequence[Criteria], verdicts: Mapping[tuple[str, int], CriterionVerdict]
) -> list[Finding]:
    """One finding per criterion the model judged not met, about the issue (summary only)."""
    out: list[Finding] = []
    for c in criteria:
        for i, item in enumerate(c.items, 1):
            v = verdicts.get((c.ticket, i))
            if v is None or v.status != "not met":
                continue
            where = f"{c.ticket}#{i}"  # one id per criterion, stable across pushes
            out.append(
                Finding.model_validate(
                    {
                        "id": fingerprint(CRITERION_RULE, where, ""),
                        "rule": CRITERION_RULE,
                        "source": Source.LLM.value,
                        "type": "evidence",
                        "category": "requirements",
                        "severity": Severity.MINOR.value,
                        "title": f"{c.ticket} criterion {i} not met: {_short(item)}",
                        "where": {"path": where},
                        "evidence": v.evidence,
                        "recommendation": f"Deliver it, or say in the PR why {c.ticket} "
                        "is done without it.",
                    }
                )
            )
    return out


def missing_issue_finding() -> Finding:
    """`linear.require_issue: true` and the pull request links no Linear issue."""
    return Finding.model_validate(
        {
            "id": fingerprint(MISSING_ISSUE_RULE, PULL_REQUEST, ""),
            "rule": MISSING_ISSUE_RULE,
            "source": Source.RULE.value,
            "type": "evidence",
            "category": "requirements",
            "severity": Severity.MAJOR.value,
            "title": "No Linear issue linked",
            "where": {"path": PULL_REQUEST},
            "evidence": "This repository requires a linked Linear issue (linear.require_issue), "
            "and the branch, title, description and commits name none.",
            "recommendation": "Name the issue in the branch (eng-123-...), the title or the "
            "description (`Fixes ENG-123`).",
        }
    )


def _cell(text: str) -> str:
    return defuse(" ".join(text.split())).replace("|", "\\|")


def _url(url: str) -> str:
    return url.replace(")", "%29").replace(" ", "%20")


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
