"""The diff model: files, hunks, lines, and where GitHub accepts a review comment.

Built on unidiff, then copied into small frozen dataclasses so the rest of the core never
touches unidiff objects (and the PatchSet can be freed early on huge diffs).

Commentable positions follow GitHub's rule: RIGHT = added and context lines, numbered in the
new file; LEFT = removed lines, numbered in the old file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from unidiff.patch import PatchSet
from unidiff.errors import UnidiffParseError

LineKind = Literal["added", "removed", "context"]
Side = Literal["LEFT", "RIGHT"]
FileStatus = Literal["added", "modified", "removed", "renamed"]


class DiffParseError(ValueError):
    """The text is not a unified diff we can read; says which file and line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = []
        if path:
            where.append(f"file {path}")
        if line is not None:
            where.append(f"diff line {line}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)
        self.path = path
        self.line = line


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: LineKind
    old_no: int | None
    new_no: int | None
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


_QUOTED = re.compile(r'^"(.*)"$', re.DOTALL)
_OCTAL_RUN = re.compile(r"(?:\\[0-7]{3})+")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def unquote_path(path: str) -> str:
    """Undo git's C-style quoting of paths with non-ASCII or special characters."""
    match = _QUOTED.match(path)
    if not match:
        return path
    body = match.group(1)

    def octal(m: re.Match[str]) -> str:
        raw = bytes(int(o, 8) for o in m.group(0).split("\\")[1:])
        return raw.decode("utf-8", errors="replace")

    body = _OCTAL_RUN.sub(octal, body)
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def _strip_prefix(path: str | None) -> str | None:
    if path is None or path == "/dev/null":
        return None
    path = unquote_path(path)
    if path[:2] in ("a/", "b/"):
        return path[2:]
    return path


def _status(patched: object) -> FileStatus:
    if getattr(patched, "is_added_file", False):
        return "added"
    if getattr(patched, "is_removed_file", False):
        return "removed"
    if getattr(patched, "is_rename", False):
        return "renamed"
    return "modified"


def _convert_hunk(hunk: object) -> Hunk:
    lines: list[DiffLine] = []
    for ln in hunk:  # type: ignore[attr-defined]
        if ln.is_added:
            kind: LineKind = "added"
        elif ln.is_removed:
            kind = "removed"
        elif ln.is_context:
            kind = "context"
        else:  # "\ No newline at end of file" carries no line number
            continue
        lines.append(DiffLine(kind, ln.source_line_no, ln.target_line_no, ln.value.rstrip("\r\n")))
    return Hunk(
        old_start=hunk.source_start,  # type: ignore[attr-defined]
        old_len=hunk.source_length,  # type: ignore[attr-defined]
        new_start=hunk.target_start,  # type: ignore[attr-defined]
        new_len=hunk.target_length,  # type: ignore[attr-defined]
        section=hunk.section_header.strip(),  # type: ignore[attr-defined]
        lines=tuple(lines),
    )


def _convert_file(patched: object) -> FileDiff:
    status = _status(patched)
    source = _strip_prefix(patched.source_file)  # type: ignore[attr-defined]
    target = _strip_prefix(patched.target_file)  # type: ignore[attr-defined]
    path = target if status != "removed" else source
    path = path or source or target or ""
    hunks = tuple(_convert_hunk(h) for h in patched)  # type: ignore[attr-defined]
    added = sum(1 for h in hunks for ln in h.lines if ln.kind == "added")
    removed = sum(1 for h in hunks for ln in h.lines if ln.kind == "removed")
    binary = bool(getattr(patched, "is_binary_file", False))
    return FileDiff(
        path=path,
        old_path=source if source != path else None,
        status=status,
        is_binary=binary,
        hunks=hunks,
        added=added,
        removed=removed,
        mode_only=not hunks and not binary and status != "added" and status != "removed",
    )


def parse_diff(text: str) -> Diff:
    """Parse a unified diff (as `git diff` or GitHub's diff media type produce it)."""
    if not text.strip():
        return Diff(files=())
    try:
        patch = PatchSet.from_string(text)
    except UnidiffParseError as exc:
        raise DiffParseError(f"not a unified diff: {exc}", line=_line_of(str(exc))) from exc
    return Diff(files=tuple(_convert_file(p) for p in patch))


def _line_of(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def patch_as_diff(path: str, patch: str | None, *, previous_path: str | None = None) -> str:
    """Wrap a bare `patch` from GitHub's files API in the headers unidiff needs."""
    old = previous_path or path
    head = f"diff --git a/{old} b/{path}\n--- a/{old}\n+++ b/{path}\n"
    if not patch:
        return f"diff --git a/{old} b/{path}\n"
    return head + (patch if patch.endswith("\n") else patch + "\n")


def diff_from_patches(files: Iterable[tuple[str, str | None, str | None]]) -> Diff:
    """Build a Diff from (path, previous_path, patch) triples of GitHub's files API."""
    return parse_diff(
        "".join(patch_as_diff(p, patch, previous_path=prev) for p, prev, patch in files)
    )
