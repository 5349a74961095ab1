"""The findings contract: one pydantic definition for rules, the LLM, the CLI and GitHub.

The shape follows the persona's findings JSON (`tool`, `version`, `status`, `findings[]` with
`type`, `category`, `severity`, `title`, `where`, `evidence`, `recommendation`) and extends it
with `id` (a stable fingerprint), `rule`, `source`, and optional `failure_scenario` (what goes
wrong, concretely: the model writes it with its evidence), `suggestion` and `confidence`.
The structured summary is the persona's summary answer.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SEVERITY_RANK = {"critical": 3, "major": 2, "minor": 1, "info": 0}


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    INFO = "info"

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.value]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


class Source(StrEnum):
    RULE = "rule"
    LLM = "llm"


# evidence: the diff shows the problem; question: the reviewer cannot tell and asks;
# suggestion: works as is, could be better.
FindingType = Literal["evidence", "question", "suggestion"]
Category = Literal[
    "plan",
    "security",
    "data",
    "migrations",
    "api",
    "performance",
    "reliability",
    "observability",
    "testing",
    "requirements",
    "maintainability",
]

_LINES = r"^[1-9][0-9]*(-[1-9][0-9]*)?$"


class Where(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)
    lines: str | None = Field(default=None, pattern=_LINES, description='"88" or "88-129"')
    side: Literal["LEFT", "RIGHT"] = Field(
        default="RIGHT", description="RIGHT: new-file line numbers; LEFT: removed lines, old file"
    )

    @model_validator(mode="after")
    def _range_in_order(self) -> Where:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"lines {self.lines!r}: the range ends before it starts")
        return self

    @property
    def start(self) -> int | None:
        return int(self.lines.split("-")[0]) if self.lines else None

    @property
    def end(self) -> int | None:
        return int(self.lines.split("-")[-1]) if self.lines else None


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default="", description="stable fingerprint; filled in by the core")
    rule: str = Field(min_length=1, description="rule id or checklist item")
    source: Source
    type: FindingType
    category: Category
    severity: Severity
    title: str = Field(min_length=1, max_length=200)
    where: Where
    evidence: str
    failure_scenario: str | None = Field(
        default=None,
        description="the concrete input or sequence of events and what goes wrong then",
    )
    recommendation: str
    suggestion: str | None = Field(
        default=None, description="replacement code for exactly the lines in `where`"
    )
    confidence: float | None = Field(default=None, ge=0, le=1)


class NextAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    owner: str
    outcome: str


class ReviewSummary(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    summary: str
    recommendation: str
    rationale: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    next_actions: list[NextAction] = Field(default_factory=list, alias="nextActions")
    missing_context: list[str] = Field(default_factory=list, alias="missingContext")


class FindingsReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool: str = "backend-review"
    version: str
    status: Literal["ready", "partial", "failed"]
    findings: list[Finding]
    summary: ReviewSummary | None = None  # the model's, when it reviewed; absent on rules only
    # Findings at or above fail_on that do not block (the model's evidence gate): id -> why.
    # Absent when there are none.
    advisory: dict[str, str] = Field(default_factory=dict)
    # Findings not where they said (moved, narrowed, file level): id -> why. `where` is always
    # the anchored location. Absent when there are none.
    anchoring: dict[str, str] = Field(default_factory=dict)


_SPACE = re.compile(r"\s+")


def fingerprint(rule: str, path: str, key: str) -> str:
    """A finding id that survives line shifts and unrelated edits.

    `key` is content, not position: the offending line's text, a route path, a column name.
    Whitespace is normalised so re-indenting does not create a "new" finding.
    """
    norm = _SPACE.sub(" ", key).strip()
    digest = hashlib.sha256(f"{rule}\0{path}\0{norm}".encode()).hexdigest()
    return f"br-{digest[:12]}"


def findings_schema() -> dict[str, Any]:
    """JSON Schema of the findings report (what `backend-review schema` prints).

    Plain objects and `$defs` only, no recursive `$ref`: the LLM adapter passes it as a forced
    tool's input schema with `strict: true`.
    """
    return FindingsReport.model_json_schema(mode="validation")


def summary_schema() -> dict[str, Any]:
    """JSON Schema of the structured review summary (camelCase keys, as the persona answers)."""
    return ReviewSummary.model_json_schema(mode="validation", by_alias=True)
