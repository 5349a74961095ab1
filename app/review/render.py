"""Markdown for GitHub: inline comment bodies, the summary comment, the check-run summary.

Everything a PR author wrote (and anything the model echoed from it) is untrusted: it is
defused so it cannot forge a marker, and table cells are kept on one line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from app.review.anchor import Anchor
from app.review.findings import Finding, ReviewSummary, Severity
from app.review.markers import (
    REVIEW_MARKER,
    SUMMARY_MARKER,
    defuse,
    finding_ids,
    finding_marker,
    findings_marker,
)

GITHUB_TEXT_LIMIT = 65_535  # check-run output.summary / .text; comment bodies allow one more
MAX_FILE_FINDINGS_IN_REVIEW = 20  # more stay in the summary's table

Placement = Literal["inline", "file", "summary", "dismissed"]

_ICON = {"critical": "🛑", "major": "🔴", "minor": "🟡", "info": "🔵"}


class FileLevel(Protocol):
    """A file-level comment as the plan has it."""

    @property
    def path(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def finding_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Placed:
    """A finding, where it is shown, and why it moved (if it did)."""

    finding: Finding
    anchor: Anchor
    placement: Placement


def truncate(text: str, limit: int = GITHUB_TEXT_LIMIT, *, tail: str = "") -> str:
    """Cut `text` to at most `limit` characters, at a line break when there is one nearby."""
    if len(text) <= limit:
        return text
    tail = tail or "\n\n… (truncated)"
    room = max(0, limit - len(tail))
    cut = text.rfind("\n", max(0, room - 2000), room)
    return text[: cut if cut > 0 else room] + tail[:limit]


def _cell(text: str) -> str:
    return defuse(" ".join(text.split())).replace("|", "\\|")


def _fence(code: str) -> str:
    """A code fence longer than any run of backticks inside the code."""
    return "`" * max([3, *(len(run) + 1 for run in _backtick_runs(code))])


def _backtick_runs(code: str) -> list[str]:
    runs, current = [], ""
    for ch in code:
        if ch == "`":
            current += ch
        elif current:
            runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return runs


def heading(finding: Finding) -> str:
    return f"{_ICON[finding.severity.value]} **{finding.severity.value.capitalize()}**"


_MAX_COMMENT = 60_000  # characters before the marker (GitHub refuses bodies over 65,536)


def comment_body(finding: Finding, anchor: Anchor, *, suggest: bool) -> str:
    """The body of one inline or file-level comment, ending with its fingerprint marker."""
    parts = [
        f"{heading(finding)} · {finding.category} · `{_cell(finding.rule)}`",
        f"**{defuse(finding.title)}**",
    ]
    if finding.evidence.strip():
        parts.append(defuse(finding.evidence.strip()))
    if finding.failure_scenario and finding.failure_scenario.strip():
        parts.append(f"**How it fails:** {defuse(finding.failure_scenario.strip())}")
    if finding.recommendation.strip():
        parts.append(f"**Recommendation:** {defuse(finding.recommendation.strip())}")
    note = f"<sub>Lines {finding.where.lines or '-'}: {anchor.note}.</sub>" if anchor.note else ""
    if suggest and finding.suggestion is not None:
        fence = _fence(finding.suggestion)
        code = finding.suggestion.rstrip("\n")
        # An empty suggestion deletes the lines: no line at all between the fences.
        block = f"{fence}suggestion\n{code}\n{fence}" if code else f"{fence}suggestion\n{fence}"
        whole = "\n\n".join([*parts, block, *([note] if note else [])])
        if len(whole) <= _MAX_COMMENT:
            return f"{whole}\n\n{finding_marker(finding.id)}"
        # Cut, the fence would stay open and "Commit suggestion" would apply half of it.
        parts.append("<sub>The suggested change is left out: the comment would be too long.</sub>")
    if note:
        parts.append(note)
    body = truncate("\n\n".join(parts), _MAX_COMMENT)
    return f"{body}\n\n{finding_marker(finding.id)}"


def posted_title(body: str) -> str:
    """The title of a finding comment `comment_body` wrote ("" when it is not one of ours)."""
    parts = body.split("\n\n", 2)
    if len(parts) < 2 or not finding_ids(body):
        return ""
    title = parts[1].strip()
    if len(title) > 4 and title.startswith("**") and title.endswith("**"):
        return title[2:-2]
    return ""


def _where(p: Placed) -> str:
    """Where the finding was anchored (never the lines it claimed), and why when it moved."""
    a = p.anchor
    lines = a.lines if a.kind == "line" and p.placement in ("inline", "dismissed") else None
    loc = f"{a.path}:{lines}" if lines else a.path
    shown = {"inline": "", "file": "file", "summary": "here only", "dismissed": ""}[p.placement]
    if a.note and p.placement != "dismissed":
        shown = f"{shown}: {a.note}" if shown else a.note
    return f"`{_cell(loc)}`" + (f" ({_cell(shown)})" if shown else "")


def findings_table(placed: Sequence[Placed]) -> str:
    rows = ["| | Severity | Finding | Where | Rule |", "|---|---|---|---|---|"]
    for i, p in enumerate(placed, 1):
        f = p.finding
        rows.append(
            f"| {i} | {_ICON[f.severity.value]} {f.severity.value} | {_cell(f.title)} "
            f"| {_where(p)} | `{_cell(f.rule)}` |"
        )
    return "\n".join(rows)


def _summary_section(summary: ReviewSummary) -> str:
    out = [defuse(summary.summary.strip()), f"**Recommendation:** {defuse(summary.recommendation)}"]
    for title, items in (
        ("Rationale", summary.rationale),
        ("Risks", summary.risks),
        ("Missing context", summary.missing_context),
    ):
        if items:
            out.append(f"**{title}**\n" + "\n".join(f"- {defuse(i)}" for i in items))
    if summary.next_actions:
        rows = ["| Next action | Owner | Outcome |", "|---|---|---|"]
        rows += [
            f"| {_cell(a.title)} | {_cell(a.owner)} | {_cell(a.outcome)} |"
            for a in summary.next_actions
        ]
        out.append("\n".join(rows))
    return "\n\n".join(out)


def counts_line(findings: Sequence[Finding]) -> str:
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s.value}" for s in Severity if counts[s]]
    return ", ".join(parts) if parts else "no findings"


def review_body(live: Sequence[Finding], file_comments: Sequence[FileLevel]) -> str:
    """The pull-request review's own text: the counts, then the file-level findings.

    File-level findings ride in the review's body instead of one API call each; their ids are
    on the body's last line, so a later run reads them back like any comment's marker.
    """
    head = (
        f"backend-review: {counts_line(live)}. The summary comment has the full list."
        f"\n\n{REVIEW_MARKER}"
    )
    if not file_comments:
        return head
    kept: list[FileLevel] = []
    items: list[str] = []
    room = GITHUB_TEXT_LIMIT - 2_000 - len(head)
    for c in file_comments[:MAX_FILE_FINDINGS_IN_REVIEW]:
        text = f"`{_cell(c.path)}`\n\n{_strip_marker(c.body)}"
        if len(text) + 10 > room:
            break
        room -= len(text) + 10
        items.append(text)
        kept.append(c)
    if not kept:
        return head
    files = "\n\n---\n\n".join(items)
    marker = findings_marker(c.finding_id for c in kept)
    return f"{head}\n\n### On whole files\n\n{files}\n\n{marker}"


def _strip_marker(body: str) -> str:
    text, _, last = body.rstrip().rpartition("\n")
    return text.rstrip() if finding_ids(last) else body


def summary_body(
    *,
    headline: str,
    placed: Sequence[Placed],
    summary: ReviewSummary | None,
    not_reviewed: Sequence[tuple[str, str]],
    notices: Sequence[str],
    dismissal: Mapping[str, str] | None = None,
    resolved: Sequence[tuple[str, str]] = (),
    resolved_in: str | None = None,
    file_level_posted: Sequence[str] = (),
    requirements: str | None = None,
) -> str:
    """The PR summary comment: verdict, structured summary, findings, what was skipped.

    `file_level_posted` are the ids of file-level findings that are in a review body on the PR:
    they go on the last line, the only place a later run can read them back from without
    listing the reviews.
    """
    shown = [p for p in placed if p.placement != "dismissed"]
    dismissed = [p for p in placed if p.placement == "dismissed"]
    parts = ["## backend-review", headline]
    parts += [f"> {defuse(n)}" for n in notices]
    if summary is not None:
        parts.append(_summary_section(summary))
    if requirements:
        parts += ["### Acceptance criteria", requirements]
    if shown:
        parts += [
            f"### Findings ({counts_line([p.finding for p in shown])})",
            findings_table(shown),
        ]
    here_only = [p for p in shown if p.placement == "summary"]
    if here_only:
        parts.append("#### Not on a line of the diff")
        for p in here_only:
            f = p.finding
            parts.append(
                f"- **{_cell(f.title)}** (`{_cell(f.where.path)}`): {_cell(f.evidence)} "
                f"*Recommendation:* {_cell(f.recommendation)}"
            )
    if dismissed:
        why = dismissal or {}
        items = [
            f"- `{p.finding.id}` {_cell(p.finding.title)}"
            + (f" — {_cell(why[p.finding.id])}" if why.get(p.finding.id) else "")
            for p in dismissed
        ]
        parts.append(folded("Dismissed", items))
    if resolved:
        where = f" in <code>{_cell(resolved_in[:12])}</code>" if resolved_in else ""
        items = [f"- `{_cell(i)}` {_cell(title)}".rstrip() for i, title in resolved]
        parts.append(folded(f"Resolved{where}", items))
    if not_reviewed:
        items = [f"- `{_cell(path)}`: {_cell(reason)}" for path, reason in not_reviewed]
        parts.append(folded("Files not reviewed", items))
    marker = findings_marker(file_level_posted) if file_level_posted else ""
    room = GITHUB_TEXT_LIMIT - len(SUMMARY_MARKER) - len(marker) - 4
    body = truncate("\n\n".join(parts), room)
    return f"{SUMMARY_MARKER}\n\n{body}" + (f"\n\n{marker}" if marker else "")


def folded(title: str, items: Sequence[str]) -> str:
    """A section shown closed: its title and count, the items when the reader opens it.

    `title` is ours (HTML allowed: Markdown is not rendered inside `<summary>`); the items
    are defused already, so none can close the `<details>` early or open another."""
    body = "\n".join(items)
    return f"<details><summary><b>{title}</b> ({len(items)})</summary>\n\n{body}\n\n</details>"


def check_summary(*, headline: str, placed: Sequence[Placed], notices: Sequence[str]) -> str:
    """The check run's `output.summary`: the verdict and the findings table."""
    shown = [p for p in placed if p.placement != "dismissed"]
    parts = [headline, *(f"> {defuse(n)}" for n in notices)]
    if shown:
        parts.append(findings_table(shown))
    tail = "\n\n… (truncated: the PR's summary comment lists every finding)"
    return truncate("\n\n".join(parts), GITHUB_TEXT_LIMIT, tail=tail)
