"""The code around a change: each reviewed file's text at the head and at the base.

The hunks alone hide what a reviewer needs: a route's siblings, the router's dependencies, a
class's `permission_classes`, the function a hunk sits in. Gathering (GitHub for the App, the
working tree or `git show` for the CLI) fills a `FileContext`; the core only reads it.

A text may be cut to stay within the review's byte budget: lines far from the hunks are then
blank, so line numbers stay those of the real file and `cut` says the file is not whole. A
file that could not be read is absent, and `notes` says why (it becomes missing context).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class FileText:
    path: str
    head: str | None  # the text at the head commit; None when absent (removed, not read)
    base: str | None  # the text at the base commit; None when absent (added, not read)
    cut: bool = False  # lines far from the hunks were blanked to stay within budget


@dataclass(frozen=True, slots=True)
class FileContext:
    files: Mapping[str, FileText] = field(default_factory=lambda: MappingProxyType({}))
    notes: tuple[str, ...] = ()  # what could not be read, one line each

    @classmethod
    def of(cls, texts: Iterable[FileText], notes: Iterable[str] = ()) -> FileContext:
        return cls(MappingProxyType({t.path: t for t in texts}), tuple(notes))

    def get(self, path: str) -> FileText | None:
        return self.files.get(path)

    def head(self, path: str) -> str | None:
        text = self.files.get(path)
        return text.head if text is not None else None

    def base(self, path: str) -> str | None:
        text = self.files.get(path)
        return text.base if text is not None else None

    def __bool__(self) -> bool:
        return bool(self.files)

    def __reduce__(self) -> tuple[Any, ...]:
        # A review's CPU steps run in worker processes: the read-only mapping travels as a dict.
        return (_rebuilt, (dict(self.files), self.notes))


EMPTY = FileContext()


def _rebuilt(files: dict[str, FileText], notes: tuple[str, ...]) -> FileContext:
    return FileContext(MappingProxyType(files), notes)


def cut_around(text: str, keep: Iterable[int], radius: int) -> str:
    """`text` with every line farther than `radius` from a line in `keep` (1-based) blanked.

    Line numbers are unchanged, so a rule or an anchor reads the cut text like the real file.
    """
    lines = text.split("\n")
    # A difference array: +1 where a kept window opens, -1 after it closes; linear in the file.
    edges = [0] * (len(lines) + 1)
    for n in keep:
        start, stop = max(0, n - 1 - radius), min(len(lines), n + radius)
        if start < stop:
            edges[start] += 1
            edges[stop] -= 1
    out, open_windows = [], 0
    for i, line in enumerate(lines):
        open_windows += edges[i]
        out.append(line if open_windows > 0 else "")
    return "\n".join(out)
