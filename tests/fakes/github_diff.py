"""The fake GitHub's own reading of a unified diff: files, hunks, and which lines take a comment.

Written independently of `app/review/diff_parse.py` (which uses unidiff), so a parsing mistake
in the app is not mirrored by the fake that judges its review comments. It reads what `git diff`
and GitHub's diff media type produce: `diff --git` headers with rename/copy/mode/binary lines,
git-quoted paths, `---`/`+++` headers (also without a `diff --git` line), hunks and
`\\ No newline at end of file` markers.

A line takes a comment the way GitHub decides it: `RIGHT` for added or context lines (new-file
numbers), `LEFT` for removed or context lines (old-file numbers), and a multi-line comment's
`start_line` must be in the same hunk as its `line`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {"n": b"\n", "t": b"\t", '"': b'"', "\\": b"\\", "a": b"\a", "b": b"\b", "r": b"\r"}


@dataclass
class Hunk:
    header: str
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: list[str] = field(default_factory=list)  # body lines, each with its prefix char

    def numbered(self) -> list[tuple[str, int | None, int | None]]:
        """(line, old number, new number) for each body line; None where a side has none."""
        out: list[tuple[str, int | None, int | None]] = []
        old, new = self.old_start, self.new_start
        for line in self.lines:
            kind = line[:1]
            if kind == "+":
                out.append((line, None, new))
                new += 1
            elif kind == "-":
                out.append((line, old, None))
                old += 1
            elif kind == "\\":
                out.append((line, None, None))
            else:
                out.append((line, old, new))
                old += 1
                new += 1
        return out

    def has(self, line: int, side: str) -> bool:
        return any((new if side == "RIGHT" else old) == line for _, old, new in self.numbered())


@dataclass
class FileDiff:
    path: str  # the new path; the old one for a deleted file
    old_path: str | None = None  # set for renames and copies
    status: str = "modified"  # GitHub's: added, removed, modified, renamed, copied
    binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def additions(self) -> int:
        return sum(1 for h in self.hunks for line in h.lines if line.startswith("+"))

    @property
    def deletions(self) -> int:
        return sum(1 for h in self.hunks for line in h.lines if line.startswith("-"))

    def patch(self) -> str | None:
        """GitHub's `patch` field: the hunks without file headers; None for binary files."""
        if self.binary or not self.hunks:
            return None
        return "\n".join(line for h in self.hunks for line in [h.header, *h.lines])

    def hunk_index(self, line: int, side: str) -> int | None:
        for index, hunk in enumerate(self.hunks):
            if hunk.has(line, side):
                return index
        return None

    def diff_hunk(self, line: int, side: str) -> str:
        """The review comment's `diff_hunk`: its hunk's header through the commented line."""
        index = self.hunk_index(line, side)
        if index is None:
            return ""
        hunk = self.hunks[index]
        taken = [hunk.header]
        for text, old, new in hunk.numbered():
            taken.append(text)
            if (new if side == "RIGHT" else old) == line:
                break
        return "\n".join(taken)

    def at_position(self, position: int) -> tuple[int, str] | None:
        """(line, side) of a legacy `position`: lines below the first @@, later @@ included."""
        seen = 0
        for index, hunk in enumerate(self.hunks):
            if index:
                seen += 1  # a later hunk's header takes a position of its own
                if seen == position:
                    return None
            for text, old, new in hunk.numbered():
                seen += 1
                if seen == position:
                    if text.startswith("-") and old is not None:
                        return old, "LEFT"
                    if new is not None:
                        return new, "RIGHT"
                    return None
        return None


def unquote_path(raw: str) -> str:
    """A path as git prints it: C-quoted (octal UTF-8 bytes) when it has unusual characters."""
    raw = raw.strip()
    if not (raw.startswith('"') and raw.endswith('"') and len(raw) >= 2):
        return raw
    body, out, i = raw[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567":
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out += _ESCAPES.get(nxt, nxt.encode())
            i += 2
            continue
        out += char.encode()
        i += 1
    return out.decode("utf-8", errors="replace")


def _strip_prefix(path: str) -> str:
    path = unquote_path(path.split("\t")[0])
    if path.startswith(("a/", "b/")):
        return path[2:]
    return path


def _git_header_paths(line: str) -> tuple[str, str] | None:
    rest = line[len("diff --git ") :]
    if rest.startswith('"'):
        return None  # quoted: the ---/+++ or rename lines say it unambiguously
    half = len(rest) // 2  # `a/P b/P` with the same P: the only split that is certain
    if rest[half : half + 1] == " " and rest[2:half] == rest[half + 3 :]:
        return _strip_prefix(rest[:half]), _strip_prefix(rest[half + 1 :])
    return None


def parse_diff(text: str) -> list[FileDiff]:
    files: list[FileDiff] = []
    current: FileDiff | None = None
    hunk: Hunk | None = None
    old_left = new_left = 0  # lines the current hunk's header still promises
    for line in text.split("\n"):
        if hunk is not None and (old_left > 0 or new_left > 0):
            if line[:1] in (" ", "+", "-", "\\") or line == "":
                line = line or " "  # a blank context line whose space was stripped
                hunk.lines.append(line)
                old_left -= line[0] in " -"
                new_left -= line[0] in " +"
                continue
            hunk = None
        if hunk is not None and line.startswith("\\"):
            hunk.lines.append(line)  # "\ No newline at end of file" after the last line
            continue
        hunk = None
        if line.startswith("diff --git "):
            current = FileDiff(path="")
            files.append(current)
            paths = _git_header_paths(line)
            if paths:
                current.old_path, current.path = paths
            continue
        if line.startswith("--- ") and (current is None or current.hunks):
            current = FileDiff(path="")  # a plain unified diff: no `diff --git` line
            files.append(current)
        if current is None:
            continue
        if match := _HUNK.match(line):
            hunk = Hunk(
                header=line,
                old_start=int(match.group(1)),
                old_count=int(match.group(2) or 1),
                new_start=int(match.group(3)),
                new_count=int(match.group(4) or 1),
            )
            current.hunks.append(hunk)
            old_left, new_left = hunk.old_count, hunk.new_count
        elif line.startswith("new file mode"):
            current.status = "added"
        elif line.startswith("deleted file mode"):
            current.status = "removed"
        elif line.startswith(("rename from ", "copy from ")):
            current.old_path = unquote_path(line.split(" from ", 1)[1])
            current.status = "renamed" if line.startswith("rename") else "copied"
        elif line.startswith(("rename to ", "copy to ")):
            current.path = unquote_path(line.split(" to ", 1)[1])
        elif line.startswith("Binary files ") or line.startswith("GIT binary patch"):
            current.binary = True
        elif line.startswith("--- "):
            source = line[4:]
            if source.strip() == "/dev/null":
                current.status = "added"
            else:
                current.old_path = _strip_prefix(source)
        elif line.startswith("+++ "):
            target = line[4:]
            if target.strip() == "/dev/null":
                current.status = "removed"
                current.path = current.old_path or current.path
            else:
                current.path = _strip_prefix(target)
    for diff in files:
        if not diff.path and diff.old_path:
            diff.path = diff.old_path
        if diff.status not in ("renamed", "copied"):
            diff.old_path = None
    return [diff for diff in files if diff.path]


def diff_line_count(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)
