"""Where a finding can be shown: a position GitHub will accept, or the summary.

GitHub rejects a whole review when one comment sits off the diff, so every finding goes through
`Anchorer.anchor`, which tries in order:

1. the exact line (or range) if it is commentable on that side;
2. the nearest commentable line of the same file within `SNAP_DISTANCE` lines;
3. a file-level comment, when the file is in the diff;
4. the summary.

A multi-line anchor stays inside one hunk, on one side, with `start_line < line`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Literal

from app.review.diff import Diff, FileDiff, Side
from app.review.findings import Where

SNAP_DISTANCE = 3

AnchorKind = Literal["line", "file", "summary"]


@dataclass(frozen=True, slots=True)
class Anchor:
    kind: AnchorKind
    path: str
    side: Side = "RIGHT"
    line: int | None = None  # set when kind == "line"
    start_line: int | None = None  # set for a multi-line anchor; always < line
    exact: bool = False  # covers exactly the lines the finding named
    note: str = ""  # why the finding moved, when it did

    @property
    def lines(self) -> str | None:
        """The anchored lines as the findings contract writes them ("12" or "12-14")."""
        if self.line is None:
            return None
        return f"{self.start_line}-{self.line}" if self.start_line else str(self.line)


class _SideIndex:
    """Commentable numbers of one file on one side, sorted, with the hunk each belongs to."""

    __slots__ = ("hunk_of", "numbers")

    def __init__(self, file: FileDiff, side: Side) -> None:
        self.hunk_of: dict[int, int] = {}
        for i, hunk in enumerate(file.hunks):
            for n in hunk.numbers(side):
                self.hunk_of.setdefault(n, i)
        self.numbers = sorted(self.hunk_of)

    def nearest(self, start: int, end: int) -> int | None:
        """The commentable number closest to [start, end], if within SNAP_DISTANCE."""
        best: int | None = None
        best_distance = SNAP_DISTANCE + 1
        i = bisect.bisect_left(self.numbers, start)
        for j in (i - 1, i):
            if 0 <= j < len(self.numbers):
                n = self.numbers[j]
                distance = start - n if n < start else max(0, n - end)
                if distance < best_distance:
                    best, best_distance = n, distance
        return best

    def in_range(self, start: int, end: int) -> list[int]:
        lo = bisect.bisect_left(self.numbers, start)
        hi = bisect.bisect_right(self.numbers, end)
        return self.numbers[lo:hi]


class Anchorer:
    """Anchors findings against one diff; per-file indices are built once, on first use."""

    def __init__(self, diff: Diff) -> None:
        self._diff = diff
        self._old_paths = {f.old_path: f for f in diff.files if f.old_path}
        self._indices: dict[tuple[str, Side], _SideIndex] = {}

    def file(self, path: str) -> FileDiff | None:
        """The file a finding names, by its new path or (for a rename) its old one."""
        return self._diff.file(path) or self._old_paths.get(path)

    def anchor(self, where: Where) -> Anchor:
        file = self.file(where.path)
        if file is None:
            return Anchor("summary", where.path, where.side, note="file is not in the diff")
        if where.start is None or where.end is None:
            return Anchor("file", file.path, where.side, exact=True)
        key = (file.path, where.side)
        index = self._indices.get(key)
        if index is None:
            index = self._indices[key] = _SideIndex(file, where.side)
        return _anchor_lines(file.path, where.side, where.start, where.end, index)


def _anchor_lines(path: str, side: Side, start: int, end: int, index: _SideIndex) -> Anchor:
    claimed = f"{start}-{end}" if end != start else str(start)
    hits = index.in_range(start, end)
    if hits:
        by_hunk: dict[int, list[int]] = {}
        for n in hits:
            by_hunk.setdefault(index.hunk_of[n], []).append(n)
        best = max(by_hunk.values(), key=len)  # the hunk covering most of the range
        first, last = best[0], best[-1]
        exact = first == start and last == end and len(by_hunk) == 1
        if side == "RIGHT" and exact:
            exact = len(best) == end - start + 1  # RIGHT lines of a hunk are contiguous
        note = "" if exact else f"narrowed from lines {claimed} to what the diff shows"
        if first == last:
            return Anchor("line", path, side, line=last, exact=exact, note=note)
        return Anchor("line", path, side, line=last, start_line=first, exact=exact, note=note)
    near = index.nearest(start, end)
    if near is not None:
        note = f"moved from line {claimed}, which is not in the diff"
        return Anchor("line", path, side, line=near, note=note)
    return Anchor("file", path, side, note=f"line {claimed} is not in the diff")
