"""Hidden HTML markers in the bot's own comments, so a re-run edits instead of duplicating.

GitHub is the record of what was posted: the adapter reads these markers back from existing
comments to skip findings already on the PR and to find the summary comment to update.
"""

from __future__ import annotations

import re

SUMMARY_MARKER = "<!-- backend-review:summary -->"
REVIEW_MARKER = "<!-- backend-review:review -->"

_ID = r"[A-Za-z0-9_-]{1,64}"
_FINDING = re.compile(rf"^<!-- backend-review:finding ({_ID}) -->$", re.MULTILINE)


def finding_marker(finding_id: str) -> str:
    if not re.fullmatch(_ID, finding_id):
        raise ValueError(f"not a finding id: {finding_id!r}")
    return f"<!-- backend-review:finding {finding_id} -->"


def finding_ids(body: str) -> set[str]:
    """The finding ids marked in a comment body (each marker on its own line)."""
    return set(_FINDING.findall(body))


def is_summary(body: str) -> bool:
    """Whether a comment body is the bot's summary comment."""
    return any(line.strip() == SUMMARY_MARKER for line in body.splitlines())


def defuse(text: str) -> str:
    """Make untrusted text unable to forge a marker: `<!--` is shown, never hidden."""
    return text.replace("<!--", "&lt;!--")
