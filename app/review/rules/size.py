"""Change size: the persona's limit of files per change."""

from __future__ import annotations

from collections.abc import Iterator

from app.review.findings import Severity
from app.review.rules.base import Change, Report, Rule, RuleContext


def _check(change: Change, ctx: RuleContext) -> Iterator[Report]:
    # A pure rename or a mode change has no line to review: a mechanical move of 40 files is
    # one change, and splitting it would be worse advice.
    counted = sorted(f.path for f in change.reviewed if not f.diff.mode_only)
    if len(counted) <= ctx.max_files:
        return
    moved = sum(1 for f in change.reviewed if f.diff.mode_only)
    skipped = len(change.files) - len(change.reviewed)
    notes = [f"{skipped} skipped file(s)"] * bool(skipped) + [
        f"{moved} pure rename(s) or mode change(s)"
    ] * bool(moved)
    note = f" ({' and '.join(notes)} not counted)" if notes else ""
    # Anchored at file level on the first counted path: one finding per change, whose id
    # does not move when the count does.
    yield Report(
        path=counted[0],
        key="change-size",
        title=f"{len(counted)} files in one change (limit {ctx.max_files})",
        evidence=f"The change touches {len(counted)} reviewed files{note}: "
        + ", ".join(counted[:10])
        + (", …" if len(counted) > 10 else ""),
        recommendation=(
            f"Split it into changes of at most {ctx.max_files} files that each ship on their own "
            "(e.g. migration first, then code, then clean-up), or raise `max_files` in "
            ".github/backend-review.yml if this repository's norm is larger."
        ),
    )


CHANGE_TOO_LARGE = Rule(
    id="change-too-large",
    doc="More reviewed files in one change than `max_files` (default 15).",
    category="plan",
    severity=Severity.MAJOR,
    check=_check,
)

RULES = (CHANGE_TOO_LARGE,)
