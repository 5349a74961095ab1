"""Parse unified diff text into the model of `app.review.diff_model`.

Hunk bodies are read here, line by line, which is fast and knows the exact line of any error;
each file's header lines (`diff --git`, modes, renames, `---`/`+++`, binary markers) are read by
unidiff, file by file, so its objects for a 5,000-file diff are never all alive at once.
Anything unreadable raises `DiffParseError` naming the file and the diff line; no other
exception escapes `parse_diff`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from app.review.diff_model import Diff, DiffLine, FileDiff, FileStatus, Hunk
from app.review.gitpath import strip_prefix


class DiffParseError(ValueError):
    """The text is not a unified diff we can read; says which file and line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = []
        if path:
            where.append(f"file {path}")
        if line is not None:
            where.append(f"diff line {line}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)
        self.reason = message
        self.path = path
        self.line = line


# What unidiff raises on malformed input besides its own error (found by fuzzing).
_UNIDIFF_ERRORS = (UnidiffParseError, ValueError, IndexError, TypeError, AttributeError)


def parse_diff(text: str) -> Diff:
    """Parse a unified diff (as `git diff` or GitHub's diff media type produce it)."""
    if not text.strip():
        return Diff(files=())
    if "\r" in text:
        text = text.replace("\r\n", "\n")  # a diff written with CRLF endings, or CRLF content
    lines = text.split("\n")  # never splitlines(): it also splits on \x0c, \u2028, ...
    if lines[-1] == "":
        lines.pop()
    files = scan_lines(lines, first_line=1)
    if not files:
        raise DiffParseError("no file headers found: expected 'diff --git' or '---'/'+++'", line=1)
    return Diff(files=tuple(files))


_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)")


class _Record:
    """One file's section while scanning: its header lines (for unidiff) and its hunks."""

    __slots__ = ("added", "first_line", "has_minus", "headers", "hunks", "is_git", "removed")

    def __init__(self, first_line: int, *, is_git: bool) -> None:
        self.first_line = first_line
        self.is_git = is_git
        self.has_minus = False
        self.headers: list[str] = []
        self.hunks: list[Hunk] = []
        self.added = 0
        self.removed = 0


def scan_lines(lines: list[str], first_line: int) -> list[FileDiff]:
    """Parse diff lines (without line endings); `first_line` is the number of the first one."""
    return _Scanner(lines, first_line).files()


class _Scanner:
    """Reads hunk bodies itself (fast, exact error lines); unidiff reads each file's headers.

    A hunk body line always starts with ' ', '+', '-' or '\\' (or is empty: a context line whose
    space was trimmed), so file headers can only appear between hunks.
    """

    def __init__(self, lines: list[str], first_line: int) -> None:
        self._lines = lines
        self._first = first_line
        self._seen: dict[str, str] = {}  # path -> the status it was first seen with

    def _unique(self, new: list[FileDiff], record: _Record) -> list[FileDiff]:
        # A series of patches (format-patch of several commits, `git log -p`) names a file once
        # per commit, each numbered against a different parent: no one set of anchors fits all.
        # One exception: a file that changes type (a file becoming a symlink, or back) is one
        # deleted and one added entry for the same path, in one diff.
        for f in new:
            earlier = self._seen.get(f.path)
            if earlier is not None and {earlier, f.status} == {"removed", "added"}:
                self._seen[f.path] = "type changed"
                continue
            if earlier is not None:
                raise DiffParseError(
                    "the same file appears twice: this looks like several commits' patches; "
                    "review one combined diff instead (git diff BASE...HEAD)",
                    path=f.path,
                    line=record.first_line,
                )
            self._seen[f.path] = f.status
        return new

    def files(self) -> list[FileDiff]:
        out: list[FileDiff] = []
        record: _Record | None = None
        it = enumerate(self._lines, self._first)
        for number, line in it:
            if line.startswith("diff --git "):
                if record is not None:
                    out.extend(self._unique(_finish(record), record))
                record = _Record(number, is_git=True)
                record.headers.append(line + "\n")
            elif line.startswith("@@ "):
                header = _HUNK_HEADER.match(line)
                if header is None:
                    raise DiffParseError(
                        "malformed @@ hunk header", path=_path_of(record), line=number
                    )
                if record is None:
                    raise DiffParseError("hunk without a file header", line=number)
                self._hunk(record, header, number, it)
            elif not line or line[0] == "\\":
                continue  # a blank separator, or "\ No newline at end of file" after a hunk
            else:
                if line.startswith("--- ") and (
                    record is None or record.hunks or record.has_minus or not record.is_git
                ):
                    if record is not None:
                        out.extend(self._unique(_finish(record), record))
                    record = _Record(number, is_git=False)
                if record is None:
                    record = _Record(number, is_git=False)  # preamble (e.g. a commit message)
                if line.startswith("--- "):
                    record.has_minus = True
                record.headers.append(line + "\n")
        if record is not None:
            out.extend(self._unique(_finish(record), record))
        return out

    def _hunk(
        self,
        record: _Record,
        header: re.Match[str],
        number: int,
        it: Iterator[tuple[int, str]],
    ) -> None:
        old_start, old_len, new_start, new_len, section = header.groups()
        o, n = int(old_start), int(new_start)
        old_left = 1 if old_len is None else int(old_len)
        new_left = 1 if new_len is None else int(new_len)
        hunk_old_len, hunk_new_len = old_left, new_left
        out: list[DiffLine] = []
        append = out.append
        make = tuple.__new__
        added = removed = 0
        if old_left or new_left:
            for number, line in it:  # continues the caller's iterator
                c = line[:1]
                if c == "+":
                    append(make(DiffLine, ("added", None, n, line[1:])))
                    n += 1
                    new_left -= 1
                    added += 1
                elif c == "-":
                    append(make(DiffLine, ("removed", o, None, line[1:])))
                    o += 1
                    old_left -= 1
                    removed += 1
                elif c == " " or not c:
                    append(make(DiffLine, ("context", o, n, line[1:])))
                    o += 1
                    n += 1
                    old_left -= 1
                    new_left -= 1
                elif c == "\\":
                    continue
                else:
                    raise DiffParseError(
                        "hunk ends before the line counts in its @@ header",
                        path=_path_of(record),
                        line=number,
                    )
                if old_left <= 0 and new_left <= 0:
                    break
                if old_left < 0 or new_left < 0:
                    raise DiffParseError(
                        "hunk has more lines than its @@ header says",
                        path=_path_of(record),
                        line=number,
                    )
            else:
                raise DiffParseError("diff ends inside a hunk", path=_path_of(record), line=number)
            if old_left < 0 or new_left < 0:
                raise DiffParseError(
                    "hunk has more lines than its @@ header says",
                    path=_path_of(record),
                    line=number,
                )
        record.hunks.append(
            Hunk(
                old_start=int(old_start),
                old_len=hunk_old_len,
                new_start=int(new_start),
                new_len=hunk_new_len,
                section=section.strip(),
                lines=tuple(out),
            )
        )
        record.added += added
        record.removed += removed


def _path_of(record: _Record | None) -> str | None:
    if record is None or not record.headers:
        return None
    head = record.headers[0].rstrip("\n")
    if head.startswith("diff --git "):
        match = re.match(r'^diff --git ("?a/.*?"?) ("?b/.*"?)$', head)
        if match:
            return strip_prefix(match.group(2))
        return head[len("diff --git ") :].strip() or None
    for line in record.headers:
        if line.startswith("+++ "):
            return strip_prefix(line[4:].split("\t")[0].rstrip("\n"))
    return None


def _finish(record: _Record) -> list[FileDiff]:
    """Let unidiff read the file headers, then attach our hunks to the file they describe."""
    try:
        patched = list(PatchSet(record.headers))
    except _UNIDIFF_ERRORS as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DiffParseError(
            f"unreadable file header: {reason}", path=_path_of(record), line=record.first_line
        ) from exc
    if not patched:
        if record.hunks:
            raise DiffParseError("hunk without a file header", line=record.first_line)
        return []  # a preamble such as a commit message: not part of any file
    try:
        files = [_file(p, ()) for p in patched[:-1]]
        files.append(_file(patched[-1], tuple(record.hunks), record.added, record.removed))
    except ValueError as exc:
        raise DiffParseError(str(exc), path=_path_of(record), line=record.first_line) from exc
    return files


def _file(patched: object, hunks: tuple[Hunk, ...], added: int = 0, removed: int = 0) -> FileDiff:
    source = strip_prefix(patched.source_file)  # type: ignore[attr-defined]
    target = strip_prefix(patched.target_file)  # type: ignore[attr-defined]
    status = _status(source, target, hunks, patched)
    path = (target if status != "removed" else source) or source or target
    if not path:
        raise ValueError("file header without a path")
    binary = bool(patched.is_binary_file)  # type: ignore[attr-defined]
    return FileDiff(
        path=path,
        old_path=source if source != path else None,
        status=status,
        is_binary=binary,
        hunks=hunks,
        added=added,
        removed=removed,
        mode_only=not hunks and not binary and status in ("modified", "renamed"),
    )


def _status(
    source: str | None, target: str | None, hunks: tuple[Hunk, ...], patched: object
) -> FileStatus:
    if source is None and target is not None:
        return "added"
    if target is None and source is not None:
        return "removed"
    if len(hunks) == 1 and hunks[0].old_start == 0 and hunks[0].old_len == 0:
        return "added"
    if len(hunks) == 1 and hunks[0].new_start == 0 and hunks[0].new_len == 0:
        return "removed"
    if getattr(patched, "is_rename", False) and source != target:
        return "renamed"
    return "modified"
