"""A very long line is data: the rules read a bounded window of it.

Every rule's patterns run in linear time (tests/review/test_regex_linear.py), but a rule may
still run a dozen of them per line, and a 60k-character line is no code a reviewer reads. So
`Change.build` hands the rules each line cut to its first `LINE_LIMIT` characters (diff lines
and gathered file texts alike) and keeps the whole lines aside: the secrets scan reads them
whole (a key in a minified bundle leaks all the same), and rules/long_lines.py notes, once per
file, which added lines were read only in part. Never silently.
"""

from __future__ import annotations

from dataclasses import replace

from app.review.diff import DiffLine, FileDiff
from app.review.file_context import FileContext, FileText

LINE_LIMIT = 2_000  # characters of one line that the rules read


def clip_diff(diff: FileDiff) -> tuple[FileDiff, tuple[DiffLine, ...]]:
    """`diff` with every line cut to `LINE_LIMIT`, and the long lines whole (empty: unchanged)."""
    long = tuple(ln for h in diff.hunks for ln in h.lines if len(ln.text) > LINE_LIMIT)
    if not long:
        return diff, ()
    hunks = tuple(
        replace(h, lines=tuple(ln._replace(text=ln.text[:LINE_LIMIT]) for ln in h.lines))
        for h in diff.hunks
    )
    return replace(diff, hunks=hunks), long


def clip_text(text: str | None) -> str | None:
    """`text` with every line cut to `LINE_LIMIT` (line numbers unchanged)."""
    if text is None or len(text) <= LINE_LIMIT:
        return text
    lines = text.split("\n")
    if all(len(line) <= LINE_LIMIT for line in lines):
        return text
    return "\n".join(line[:LINE_LIMIT] for line in lines)


def clip_file(text: FileText | None) -> FileText | None:
    if text is None:
        return None
    head, base = clip_text(text.head), clip_text(text.base)
    if head is text.head and base is text.base:
        return text
    return replace(text, head=head, base=base)


def clip_context(context: FileContext) -> FileContext:
    if not context:
        return context
    clipped = [clip_file(t) for t in context.files.values()]
    return FileContext.of([t for t in clipped if t is not None], context.notes)
