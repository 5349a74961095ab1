"""The bits of Markdown the core reads in people's text (personas, Linear issues, PR bodies):
ATX headings and fenced code blocks, as CommonMark has them. Pure, and linear in the input:
these texts come from repositories and issue trackers, not from us.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# The closing `#` run is stripped in Python: a lazy `(.*?)` before an optional `[ \t]+#+`
# backtracks quadratically over a long run of blanks (a 60k-character heading took minutes).
# `[ \t]++`: the blank run before the title is not given back to `.*` one character at a time.
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]++(.*))?$")
_FENCE = re.compile(r"^[ \t]*(?:>[ \t]*)*(`{3,}|~{3,})")


def atx_heading(line: str) -> tuple[int, str] | None:
    """(level, text) of an ATX heading line (`## Title ##`), None for any other line."""
    match = _ATX.match(line)
    if match is None:
        return None
    text = (match.group(2) or "").rstrip(" \t")
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        text = bare.rstrip(" \t")
    return len(match.group(1)), text


def in_fence(lines: Sequence[str]) -> list[bool]:
    """For each line, whether it belongs to a fenced code block (the fences included)."""
    marks: list[bool] = []
    fence: str | None = None
    for line in lines:
        marker = _FENCE.match(line)
        if fence is None:
            fence = marker.group(1) if marker else None
            marks.append(fence is not None)
            continue
        marks.append(True)
        run = marker.group(1) if marker else ""
        if run[:1] == fence[:1] and len(run) >= len(fence) and not _FENCE.sub("", line).strip():
            fence = None  # CommonMark: same character, at least as long, nothing after it
    return marks
