"""The diff model and its parsers: the one import the rest of the core needs.

`parse_diff` reads a whole unified diff (git's, or GitHub's diff media type);
`diff_from_patches` reads the bare `patch` fragments of GitHub's files API. The model itself
(`Diff`, `FileDiff`, `Hunk`, `DiffLine`) lives in `app.review.diff_model`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from app.review.diff_model import Diff, DiffLine, FileDiff, FileStatus, Hunk, LineKind, Side
from app.review.diff_parse import DiffParseError, parse_diff, scan_lines
from app.review.gitpath import quote_path, unquote_path

__all__ = [
    "Diff",
    "DiffLine",
    "DiffParseError",
    "FileDiff",
    "FilePatch",
    "FileStatus",
    "Hunk",
    "LineKind",
    "Side",
    "diff_from_patches",
    "parse_diff",
    "patch_as_diff",
    "quote_path",
    "unquote_path",
]


@dataclass(frozen=True, slots=True)
class FilePatch:
    """One entry of `GET /repos/{o}/{r}/pulls/{n}/files`."""

    path: str  # `filename`
    patch: str | None  # missing for binary files and for files too large to show
    status: str = "modified"  # added, removed, modified, renamed, copied, changed, unchanged
    previous_path: str | None = None  # `previous_filename`, for renames and copies
    changes: int | None = None  # `changes` (additions + deletions), when known


def patch_as_diff(
    path: str,
    patch: str | None,
    *,
    previous_path: str | None = None,
    status: str = "modified",
) -> str:
    """Wrap a bare `patch` from GitHub's files API in the git headers unidiff needs."""
    if patch and (patch.startswith("diff --git ") or patch.startswith("--- ")):
        return patch if patch.endswith("\n") else patch + "\n"
    new = quote_path(f"b/{path}")
    old_raw = previous_path if status in ("renamed", "copied") and previous_path else path
    old = quote_path(f"a/{old_raw}")
    head = [f"diff --git {old} {new}\n"]
    minus, plus = old, new
    if status == "added":
        head.append("new file mode 100644\n")
        minus = "/dev/null"
    elif status == "removed":
        head.append("deleted file mode 100644\n")
        plus = "/dev/null"
    elif old_raw != path:
        head += [f"rename from {old_raw}\n", f"rename to {path}\n"]
    if not patch:
        return "".join(head)
    head += [f"--- {minus}\n", f"+++ {plus}\n"]
    return "".join(head) + (patch if patch.endswith("\n") else patch + "\n")


def diff_from_patches(files: Iterable[FilePatch]) -> Diff:
    """Build a Diff from the entries of GitHub's files API, one file at a time."""
    out: list[FileDiff] = []
    for entry in files:
        head = patch_as_diff(
            entry.path, None, previous_path=entry.previous_path, status=entry.status
        )
        text = patch_as_diff(
            entry.path, entry.patch, previous_path=entry.previous_path, status=entry.status
        ).replace("\r\n", "\n")
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        # number lines from the start of the patch, as GitHub shows it
        header_lines = head.count("\n") + (2 if entry.patch else 0)  # plus the ---/+++ lines
        parsed = scan_lines(lines, first_line=1 - header_lines)
        for fd in parsed:
            if entry.patch is None and entry.changes != 0:
                fd = replace(fd, no_patch=True, mode_only=False)
            out.append(fd)
    return Diff(files=tuple(out))
