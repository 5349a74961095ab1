"""The evidence gate: which of the model's findings may fail the check (pure).

A required check that flips on guesses gets switched off by the team, and the model's answers
vary from run to run (no temperature can be set). So a model finding blocks only when it is
evidence, anchored on the lines it cites, and sure enough; the rest is shown as advisory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.review.anchor import Anchor
from app.review.findings import Finding, Source
from app.review.repo_config import RepoConfig


def held_back(
    finding: Finding,
    anchor: Anchor,
    config: RepoConfig,
    verification: Mapping[str, str] | None = None,
) -> str | None:
    """Why the evidence gate keeps a model finding from blocking, or None when it may block.

    A model finding blocks only when it shows the problem (`type: evidence`), is anchored on
    the lines it cites, and is at least `model.block_confidence` sure: the same head must not
    pass on one run and fail on the next because the model guessed differently. With
    `model.verify`, `verification` says why findings that passed were then held back (by id).
    """
    if finding.source is not Source.LLM:
        return None
    gate = config.model
    if not gate.blocking:
        return "the model is advisory here (model.blocking: false)"
    if finding.type != "evidence":
        return f"a {finding.type}, not evidence"
    if finding.confidence is None:
        return "no confidence given"
    if finding.confidence < gate.block_confidence:
        return f"confidence {finding.confidence:g}, below {gate.block_confidence:g}"
    where = finding.where
    if where.start is None or where.end is None:
        return "cites no lines"
    if anchor.kind != "line" or anchor.line is None:
        return f"not anchored on the lines it cites ({anchor.note or 'file level'})"
    if anchor.side != where.side or not (
        where.start <= (anchor.start_line or anchor.line) and anchor.line <= where.end
    ):
        return f"not anchored on the lines it cites ({anchor.note or 'moved'})"
    return (verification or {}).get(finding.id)


def advisory_notice(live: Sequence[Finding], advisory: Mapping[str, str]) -> str:
    """One summary line naming the findings the gate held back, and why."""
    shown = [f for f in live if f.id in advisory]
    items = "; ".join(f"`{f.id}` {f.title[:80]} ({advisory[f.id]})" for f in shown[:10])
    more = f"; and {len(shown) - 10} more" if len(shown) > 10 else ""
    return f"Advisory, not blocking: {len(shown)} model finding(s): {items}{more}"
