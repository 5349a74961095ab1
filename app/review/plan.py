"""The review plan: everything the GitHub adapter sends, decided here and nowhere else.

`build_plan` merges rule and LLM findings (one per fingerprint), anchors each one, orders them
by severity, and decides the review event, the inline and file-level comments, the summary
comment, and the check run (conclusion, title, summary, annotations).

Conclusion: `failure` when a blocking finding is not dismissed (even if the review was
incomplete: what the rules found still counts), else `neutral` when the caller says the review
was incomplete (never `success`: a model that did not review passed nothing), else `success`.
A rule finding blocks at or above `fail_on`; a model finding only when it passes the evidence
gate (`app.review.model_gate`) and, with `model.verify`, its verification (`PlanInput.held`).
With `model.blocking: false` the model is advisory: its findings never block, and a model that
did not review leaves the conclusion alone (the summary says so).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from app.review.anchor import Anchor, Anchorer
from app.review.diff import Diff, Side
from app.review.dismissal import DismissalRecord, judge
from app.review.files import ignored_reason
from app.review.findings import Finding, ReviewSummary, Severity, Source, fingerprint
from app.review.markers import finding_ids
from app.review.model_gate import advisory_notice, held_back
from app.review.render import (
    Placed,
    check_summary,
    comment_body,
    counts_line,
    review_body,
    summary_body,
)
from app.review.repo_config import RepoConfig

MAX_INLINE_COMMENTS = 50  # GitHub fails on very large reviews; the rest stay in the summary
ANNOTATION_TITLE_LIMIT = 255
ANNOTATION_MESSAGE_LIMIT = 4_000

_OUR_ID = re.compile(r"^br-[0-9a-f]{12}$")


class InlineComment(BaseModel):
    path: str
    line: int
    side: Side
    start_line: int | None = None
    start_side: Side | None = None
    body: str
    finding_id: str


class FileComment(BaseModel):
    path: str
    body: str
    finding_id: str


class Annotation(BaseModel):
    path: str
    start_line: int
    end_line: int
    annotation_level: Literal["notice", "warning", "failure"]
    title: str = Field(max_length=ANNOTATION_TITLE_LIMIT)
    message: str


class Location(BaseModel):
    """Where a finding was anchored: what every report shows, not the lines the model claimed."""

    path: str
    lines: str | None  # "12" or "12-14"; None at file level (or in the summary only)
    side: Side
    note: str = ""  # why it is not where the finding said (moved, narrowed, file level)


class NotReviewed(BaseModel):
    path: str
    reason: str


class ReviewPlan(BaseModel):
    event: Literal["COMMENT", "REQUEST_CHANGES"]
    review_body: str
    comments: list[InlineComment]
    file_comments: list[FileComment]
    summary_body: str
    conclusion: Literal["success", "failure", "neutral"]
    check_title: str
    check_summary: str
    annotations: list[Annotation]  # all of them: the adapter sends them 50 per request
    findings: list[Finding]  # merged, ordered, every id filled; dismissed ones included
    dismissed: list[str]
    not_reviewed: list[NotReviewed]
    blocking: int  # findings at or above fail_on, not dismissed
    summary: ReviewSummary | None = None  # the model's structured summary, when it gave one
    # Model findings at or above fail_on that the evidence gate held back: id -> why.
    advisory: dict[str, str] = Field(default_factory=dict)
    # Each finding's anchored location, by id (the reports' one truth about where it is).
    locations: dict[str, Location] = Field(default_factory=dict)
    # Findings on the pull request that this (complete) review no longer finds: their threads
    # are closed (app.jobs.threads).
    resolved: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PlanInput:
    """What a plan is made from.

    `incomplete` is the reason the review is partial (e.g. "the model did not answer"), or None.
    `notices` are lines shown at the top of the summary (e.g. "rules only: no LLM configured").
    `not_reviewed` adds files the caller skipped (path -> reason) to those the config ignores.
    `dismissed` may map each id to who dismissed it and why, shown in the summary.
    `previous` maps the ids of findings already on the pull request (read back from the
    markers) to their titles: they get no new comment but still count and are listed in the
    summary; those this review no longer finds are listed as resolved in `resolved_in` — only
    when the review was complete, since a model that did not answer finds nothing.
    `requirements` is the acceptance-criteria table of the linked issues, when there are any.
    `dismissals` are the stored dismissals, judged here against `config.dismiss` knowing each
    finding's severity (`pr_author`: whose pull request it is); those the policy does not allow
    are not applied, and the summary says why.
    """

    diff: Diff
    findings: Sequence[Finding]
    config: RepoConfig
    summary: ReviewSummary | None = None
    dismissed: Collection[str] | Mapping[str, str] = frozenset()
    incomplete: str | None = None
    notices: Sequence[str] = ()
    not_reviewed: Mapping[str, str] | None = None
    previous: Mapping[str, str] | None = None
    resolved_in: str | None = None
    requirements: str | None = None
    dismissals: Sequence[DismissalRecord] = ()
    pr_author: str | None = None
    # The review could not finish (it ran past its CPU budget): the check fails whatever was
    # found, with this reason; `incomplete` should say the same.
    failed: str | None = None
    # Model findings the evidence gate let through that their verification held back
    # (`model.verify`): id -> why they do not block.
    held: Mapping[str, str] | None = None


def build_plan(given: PlanInput) -> ReviewPlan:
    """Plan the review of `given.diff` (see `PlanInput` for what each part means)."""
    diff, findings, config, summary = given.diff, given.findings, given.config, given.summary
    dismissed, incomplete, notices = given.dismissed, given.incomplete, given.notices
    not_reviewed, previous = given.not_reviewed, given.previous
    resolved_in, requirements = given.resolved_in, given.requirements
    anchorer = Anchorer(diff)
    merged = _merge(findings, diff, anchorer, config)
    dismissal = dict(dismissed) if isinstance(dismissed, Mapping) else dict.fromkeys(dismissed, "")
    if given.dismissals:
        judged = judge(
            given.dismissals,
            {f.id: f.severity for f in merged},
            config.dismiss,
            pr_author=given.pr_author,
        )
        dismissal |= judged.applied
        for finding_id in judged.refused:
            dismissal.pop(finding_id, None)
        here = {f.id for f in merged}
        notices = [*notices, *(f"`{i}`: {w}" for i, w in judged.refused.items() if i in here)]
    placed = _place(merged, anchorer, frozenset(dismissal))
    live = [p.finding for p in placed if p.placement != "dismissed"]
    advisory = {
        f.id: why
        for f in live
        if config.fails(f.severity)
        and (why := held_back(f, anchorer.anchor(f.where), config, given.held))
    }
    blocking = sum(1 for f in live if config.fails(f.severity) and f.id not in advisory)
    if advisory:
        notices = [*notices, advisory_notice(live, advisory)]
    if incomplete and not config.model.blocking and not given.failed:
        # The repository made the model advisory: its absence does not hold the check.
        notices = [*notices, f"The model did not review: {incomplete} (model.blocking: false)"]
        incomplete_for_check = None
    else:
        incomplete_for_check = incomplete

    if given.failed:
        conclusion: Literal["success", "failure", "neutral"] = "failure"
        title = f"Review could not finish: {given.failed}"
    elif blocking:
        conclusion = "failure"
        plural = "s" if blocking != 1 else ""
        title = f"{blocking} blocking finding{plural} (fail_on: {config.fail_on.value})"
    elif incomplete_for_check:
        conclusion = "failure" if config.model.incomplete == "failure" else "neutral"
        title = f"Review incomplete: {incomplete_for_check}"
    else:
        conclusion = "success"
        title = "No blocking findings" + (f" ({counts_line(live)})" if live else "")
    headline = f"**{title}**"
    said = incomplete_for_check and (blocking or given.failed)
    all_notices = [*notices, *([f"Incomplete: {incomplete}"] if said else [])]

    skipped = _not_reviewed(diff, config, not_reviewed or {})
    posted = previous or {}
    comments, file_comments = _comments([p for p in placed if p.finding.id not in posted])
    current = {p.finding.id for p in placed}
    resolved = [] if incomplete else [(i, title) for i, title in posted.items() if i not in current]
    body = review_body(live, file_comments)
    in_body = finding_ids(body)
    file_level_posted = [
        p.finding.id
        for p in placed
        if p.placement == "file" and (p.finding.id in posted or p.finding.id in in_body)
    ]
    if incomplete:
        # Findings this review could not see (a model that did not answer) are still on the
        # PR: keep remembering them, or the next complete review would post them again.
        file_level_posted += [i for i in posted if i not in current]
    return ReviewPlan(
        event="REQUEST_CHANGES" if blocking and config.request_changes else "COMMENT",
        review_body=body,
        comments=comments,
        file_comments=file_comments,
        summary_body=summary_body(
            headline=headline,
            placed=placed,
            summary=summary,
            not_reviewed=[(s.path, s.reason) for s in skipped],
            notices=all_notices,
            dismissal=dismissal,
            resolved=resolved,
            resolved_in=resolved_in,
            file_level_posted=file_level_posted,
            requirements=requirements,
        ),
        conclusion=conclusion,
        check_title=title[:ANNOTATION_TITLE_LIMIT],
        check_summary=check_summary(headline=headline, placed=placed, notices=all_notices),
        annotations=_annotations(placed, diff, config, advisory),
        findings=[p.finding for p in placed],
        dismissed=[p.finding.id for p in placed if p.placement == "dismissed"],
        not_reviewed=skipped,
        blocking=blocking,
        summary=summary,
        advisory=advisory,
        locations={p.finding.id: _location(p.finding, anchorer) for p in placed},
        resolved=[finding_id for finding_id, _ in resolved],
    )


def _location(finding: Finding, anchorer: Anchorer) -> Location:
    """The anchor before the per-review comment cap: a line stays a line in the reports."""
    a = anchorer.anchor(finding.where)
    lines = a.lines if a.kind == "line" else None
    note = a.note
    if a.kind == "file" and not note and finding.where.lines is None:
        note = "no lines cited: about the whole file"
    return Location(path=a.path, lines=lines, side=a.side, note=note)


def _merge(
    findings: Iterable[Finding], diff: Diff, anchorer: Anchorer, config: RepoConfig
) -> list[Finding]:
    """Fill missing ids, keep one finding per id, order them.

    Of findings sharing an id (two model concerns of one category on one line), the one that
    may block is kept, then the most severe, then a rule's over the model's: a guess marked
    critical must not swallow the evidence it shares a line with and turn a failure into a pass.
    """
    with_ids: list[Finding] = []
    for f in findings:
        if f.source is Source.LLM or not _OUR_ID.match(f.id):
            f = f.model_copy(update={"id": _fingerprint(f, diff, anchorer)})
        with_ids.append(f)

    def held(f: Finding) -> bool:
        return held_back(f, anchorer.anchor(f.where), config) is not None

    with_ids.sort(key=lambda f: (held(f), -f.severity.rank, f.source is not Source.RULE))
    seen: set[str] = set()
    out: list[Finding] = []
    for f in with_ids:
        if f.id not in seen:
            seen.add(f.id)
            out.append(f)
    out.sort(key=lambda f: (-f.severity.rank, f.where.path, f.where.start or 0, f.title))
    return out


def _fingerprint(finding: Finding, diff: Diff, anchorer: Anchorer) -> str:
    """An id from content, not position: the anchored line's text, else the title.

    A model words its titles afresh on every run, so a model finding on a line is keyed on its
    rule, its category and its line's text: the same concern keeps its id across pushes, and
    two concerns of different kinds on one line (security, testing) keep two ids, so dismissing
    one never dismisses the other. At file level there is no line to key on: the title and the
    evidence join the key, or every concern of one category about a file would be one finding.
    """
    llm = finding.source is Source.LLM
    key = f"{finding.title}\0{finding.evidence}" if llm else finding.title
    anchor = anchorer.anchor(finding.where)
    file = diff.file(anchor.path)
    if anchor.kind == "line" and anchor.line is not None and file is not None:
        line = file.line_at(anchor.line, anchor.side)
        if line is not None and line.text.strip():
            key = line.text
    if llm:
        key = f"{finding.category}\0{key}"
    return fingerprint(finding.rule, anchor.path, key)


def _place(findings: list[Finding], anchorer: Anchorer, dismissed: frozenset[str]) -> list[Placed]:
    placed: list[Placed] = []
    inline = 0
    for f in findings:
        anchor = anchorer.anchor(f.where)
        if f.id in dismissed:
            placed.append(Placed(f, anchor, "dismissed"))
        elif anchor.kind == "line" and inline < MAX_INLINE_COMMENTS:
            inline += 1
            placed.append(Placed(f, anchor, "inline"))
        elif anchor.kind in ("line", "file"):
            placed.append(Placed(f, _file_level(anchor), "file"))
        else:
            placed.append(Placed(f, anchor, "summary"))
    return placed


def _file_level(anchor: Anchor) -> Anchor:
    if anchor.kind == "file":
        return anchor
    return Anchor("file", anchor.path, anchor.side, note="too many comments for one review")


def _comments(placed: list[Placed]) -> tuple[list[InlineComment], list[FileComment]]:
    inline: list[InlineComment] = []
    files: list[FileComment] = []
    for p in placed:
        a, f = p.anchor, p.finding
        if p.placement == "inline" and a.line is not None:
            suggest = a.exact and a.side == "RIGHT" and f.where.start is not None
            inline.append(
                InlineComment(
                    path=a.path,
                    line=a.line,
                    side=a.side,
                    start_line=a.start_line,
                    start_side=a.side if a.start_line is not None else None,
                    body=comment_body(f, a, suggest=suggest),
                    finding_id=f.id,
                )
            )
        elif p.placement == "file":
            files.append(
                FileComment(path=a.path, body=comment_body(f, a, suggest=False), finding_id=f.id)
            )
    return inline, files


def _annotations(
    placed: list[Placed], diff: Diff, config: RepoConfig, advisory: Mapping[str, str]
) -> list[Annotation]:
    """Check-run annotations on the head commit: new-side lines only, or line 1 of the file."""
    out: list[Annotation] = []
    for p in placed:
        a, f = p.anchor, p.finding
        file = diff.file(a.path)
        if p.placement in ("dismissed", "summary") or file is None or file.status == "removed":
            continue
        if a.kind == "line" and a.side == "RIGHT" and a.line is not None:
            start, end = a.start_line or a.line, a.line
        elif a.kind == "file" or a.side == "LEFT":
            start = end = 1
        else:
            continue
        if config.fails(f.severity) and f.id not in advisory:
            level: Literal["notice", "warning", "failure"] = "failure"
        else:
            level = "notice" if f.severity is Severity.INFO else "warning"
        message = f"{f.evidence}\n\nRecommendation: {f.recommendation}".strip()
        out.append(
            Annotation(
                path=a.path,
                start_line=start,
                end_line=end,
                annotation_level=level,
                title=f"[{f.severity.value}] {f.title}"[:ANNOTATION_TITLE_LIMIT],
                message=message[:ANNOTATION_MESSAGE_LIMIT],
            )
        )
    return out


def _not_reviewed(diff: Diff, config: RepoConfig, extra: Mapping[str, str]) -> list[NotReviewed]:
    out: list[NotReviewed] = []
    for file in diff.files:
        reason = extra.get(file.path) or ignored_reason(file.path, config.ignore)
        if reason is None and file.no_patch:
            reason = "GitHub sent no patch (binary or too large)"
        elif reason is None and file.is_binary:
            reason = "binary"
        if reason:
            out.append(NotReviewed(path=file.path, reason=reason))
    known = {f.path for f in diff.files}
    out += [NotReviewed(path=p, reason=r) for p, r in extra.items() if p not in known]
    return out
