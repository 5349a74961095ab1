"""Added lines too long for the rules to read whole: noted once per file, never silent."""

from __future__ import annotations

from collections.abc import Iterator

from app.review.findings import Severity
from app.review.rules.base import Change, Report, Rule, RuleContext, span
from app.review.rules.clip import LINE_LIMIT


def _check(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f in change.reviewed:
        added = [ln for ln in f.long_lines if ln.kind == "added" and ln.new_no is not None]
        if not added:
            continue
        longest = max(len(ln.text) for ln in added)
        numbers = ", ".join(str(ln.new_no) for ln in added[:10])
        more = f" and {len(added) - 10} more" if len(added) > 10 else ""
        yield Report(
            path=f.path,
            key="long-lines",
            title=f"{len(added)} line(s) over {LINE_LIMIT:,} characters read only in part",
            evidence=f"Line(s) {numbers}{more} are up to {longest:,} characters long. The "
            f"rules read the first {LINE_LIMIT:,} characters of each (the secrets scan reads "
            "them whole); the rest was not reviewed.",
            recommendation="If this is data or generated code, move it to a data file or ignore "
            "it (`ignore` in .github/backend-review.yml); if it is code, wrap it so that it can "
            "be reviewed.",
            lines=span(added[0].new_no or 1),
            severity=Severity.INFO,
            type="question",
        )


LONG_LINE = Rule(
    id="long-line-not-reviewed",
    doc=f"An added line over {LINE_LIMIT:,} characters: the rules read only its start.",
    category="plan",
    severity=Severity.INFO,
    check=_check,
)

RULES = (LONG_LINE,)
