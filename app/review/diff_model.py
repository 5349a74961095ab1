"""The diff data model: files, hunks, lines, and where GitHub accepts a review comment.

Commentable positions follow GitHub's rule: RIGHT = added and context lines, numbered in the
new file; LEFT = removed lines, numbered in the old file.

Parsing lives in `app.review.diff`, which re-exports every name defined here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

LineKind = Literal["added", "removed", "context"]
Side = Literal["LEFT", "RIGHT"]
FileStatus = Literal["added", "modified", "removed", "renamed"]


class DiffLine(NamedTuple):
    """One line of a hunk. A named tuple: a large diff holds hundreds of thousands of these."""

    kind: LineKind
    old_no: int | None  # None for added lines
    new_no: int | None  # None for removed lines
    text: str  # without the +/-/space marker and without the line ending


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str  # the text after the second "@@" (often the enclosing function)
    lines: tuple[DiffLine, ...]

    def numbers(self, side: Side) -> list[int]:
        """Line numbers on `side` that a review comment may use, in diff order."""
        if side == "RIGHT":
            return [ln.new_no for ln in self.lines if ln.new_no is not None]
        return [ln.old_no for ln in self.lines if ln.kind == "removed" and ln.old_no is not None]


@dataclass(frozen=True, slots=True)
class FileDiff:
    path: str  # the new path; for a removed file, the old one
    old_path: str | None  # the old path when it differs (rename) or the file was removed
    status: FileStatus
    is_binary: bool
    hunks: tuple[Hunk, ...]
    added: int
    removed: int
    mode_only: bool = False  # no content change: only the file mode, or a pure rename
    no_patch: bool = False  # GitHub's files API sent no patch (binary or too large)

    def lines(self) -> Iterator[DiffLine]:
        for hunk in self.hunks:
            yield from hunk.lines

    def added_lines(self) -> Iterator[DiffLine]:
        return (ln for ln in self.lines() if ln.kind == "added")

    def removed_lines(self) -> Iterator[DiffLine]:
        return (ln for ln in self.lines() if ln.kind == "removed")

    def commentable(self, side: Side) -> frozenset[int]:
        return frozenset(n for h in self.hunks for n in h.numbers(side))

    def hunk_at(self, line: int, side: Side = "RIGHT") -> Hunk | None:
        for hunk in self.hunks:
            if line in hunk.numbers(side):
                return hunk
        return None

    def line_at(self, line: int, side: Side = "RIGHT") -> DiffLine | None:
        """The diff line commentable at `line` on `side`, if any."""
        for hunk in self.hunks:
            for ln in hunk.lines:
                if side == "RIGHT" and ln.new_no == line:
                    return ln
                if side == "LEFT" and ln.kind == "removed" and ln.old_no == line:
                    return ln
        return None


@dataclass(frozen=True, slots=True)
class Diff:
    files: tuple[FileDiff, ...]
    _by_path: dict[str, FileDiff] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_path.update({f.path: f for f in self.files})

    def file(self, path: str) -> FileDiff | None:
        return self._by_path.get(path)

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]
