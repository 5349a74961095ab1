"""Hidden HTML markers in the bot's own comments, so a re-run edits instead of duplicating.

GitHub is the record of what was posted: the adapter reads these markers back from existing
comments to skip findings already on the PR and to find the summary comment to update.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.review.untrusted import neutralize

SUMMARY_MARKER = "<!-- backend-review:summary -->"
REVIEW_MARKER = "<!-- backend-review:review -->"

_ID = r"[A-Za-z0-9_-]{1,64}"
_FINDING = re.compile(rf"<!-- backend-review:finding ({_ID}) -->")
_FINDINGS = re.compile(rf"<!-- backend-review:findings ({_ID}+(?: {_ID}+)*) -->")


def finding_marker(finding_id: str) -> str:
    if not re.fullmatch(_ID, finding_id):
        raise ValueError(f"not a finding id: {finding_id!r}")
    return f"<!-- backend-review:finding {finding_id} -->"


def fixed_marker(finding_id: str) -> str:
    """Ends our "fixed in <sha>" reply in a finding's thread: said once, not on every push."""
    if not re.fullmatch(_ID, finding_id):
        raise ValueError(f"not a finding id: {finding_id!r}")
    return f"<!-- backend-review:fixed {finding_id} -->"


def findings_marker(finding_ids: Iterable[str]) -> str:
    """One marker for several findings (the review body lists the file-level ones)."""
    ids = list(finding_ids)
    for finding_id in ids:
        if not re.fullmatch(_ID, finding_id):
            raise ValueError(f"not a finding id: {finding_id!r}")
    return f"<!-- backend-review:findings {' '.join(ids)} -->"


def finding_ids(body: str) -> set[str]:
    """The finding ids marked in a comment body: its last line, where the renderer puts them.

    A marker anywhere else is text the comment quotes (a model's suggestion, say), not ours.
    """
    last = body.rstrip().rsplit("\n", 1)[-1].strip()
    match = _FINDING.fullmatch(last)
    if match:
        return {match.group(1)}
    many = _FINDINGS.fullmatch(last)
    return set(many.group(1).split()) if many else set()


def is_summary(body: str) -> bool:
    """Whether a comment body is the bot's summary comment: the marker is its first line."""
    return body.lstrip().split("\n", 1)[0].strip() == SUMMARY_MARKER


def defuse(text: str) -> str:
    """Untrusted text as it may be posted: unable to forge a marker (`<!--` is shown, never
    hidden), mention anyone, embed an image or raw HTML (see app.review.untrusted)."""
    return neutralize(text)
