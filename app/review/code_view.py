"""The code around each hunk, as the prompt shows it: the enclosing function or class from the
head file, and a short outline of the file.

`code_views` reads each changed file's head text once (`app.review.outline`, linear); the
prompt (`app.review.prompt.render_part`) asks `around(view, hunks, i)` which unchanged lines
to show before and after hunk i. Bounded: at most `BEFORE` lines above a hunk (the block's
first lines, its decorators and signature, then the lines just above the hunk) and `AFTER`
below, never into the next hunk or lines already shown. Added files need none of it (the diff
is the whole file), removed ones have no head.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.review.diff_model import Diff, Hunk
from app.review.file_context import FileContext
from app.review.outline import Enclosing, language_of, outline, outline_lines

BEFORE = 30  # unchanged lines shown above a hunk, at most
AFTER = 15  # and below it
SIGNATURE = 6  # of BEFORE: the block's first lines (decorators, signature) when it is long
OUTLINE_ENTRIES = 40


@dataclass(frozen=True, slots=True)
class CodeView:
    lines: tuple[str, ...]  # the head file; line n is lines[n - 1]
    where: Enclosing
    outline: tuple[str, ...]  # the outline's lines; empty when not shown
    cut: bool  # the head text was cut around the hunks: lines far from them are blank


@dataclass(frozen=True, slots=True)
class Around:
    """Unchanged head lines to show with one hunk: `before` then the hunk then `after`, each
    a run of line numbers; `skipped_*` lines of the block are left out between them."""

    block: str  # "def create" or "class RefundView"
    signature: tuple[int, ...] = ()
    skipped_before: int = 0
    before: tuple[int, ...] = ()
    after: tuple[int, ...] = ()
    skipped_after: int = 0


def code_views(diff: Diff, files: FileContext, *, with_outline: bool) -> dict[str, CodeView]:
    out: dict[str, CodeView] = {}
    for file in diff.files:
        text = files.get(file.path)
        language = language_of(file.path)
        if text is None or text.head is None or language is None:
            continue
        if file.status in ("added", "removed") or not file.hunks:
            continue
        lines = text.head.split("\n")
        blocks = outline(text.head, language)
        summary = outline_lines(blocks, limit=OUTLINE_ENTRIES) if with_outline else []
        out[file.path] = CodeView(
            tuple(lines), Enclosing(blocks, len(lines)), tuple(summary), text.cut
        )
    return out


def views_without_outline(views: Mapping[str, CodeView]) -> dict[str, CodeView]:
    return {p: CodeView(v.lines, v.where, (), v.cut) for p, v in views.items()}


def _focus(hunk: Hunk) -> tuple[int, int]:
    """The new-side lines the hunk changes (for a pure removal, where the lines were)."""
    added = [ln.new_no for ln in hunk.lines if ln.kind == "added" and ln.new_no is not None]
    if added:
        return added[0], added[-1]
    after_removal = hunk.new_start
    for ln in hunk.lines:
        if ln.kind == "removed":
            break
        if ln.new_no is not None:
            after_removal = ln.new_no + 1
    return after_removal, after_removal


def around(view: CodeView, hunks: Sequence[Hunk], index: int, shown_until: int) -> Around | None:
    """What to show with `hunks[index]`; `shown_until` is the last new line already shown."""
    hunk = hunks[index]
    first, last = _focus(hunk)
    block = view.where.of(first, last)
    if block is None:
        return None
    total = len(view.lines)
    start = max(block.start, shown_until + 1)
    before = list(range(start, min(hunk.new_start, total + 1)))
    signature: list[int] = []
    skipped = 0
    if len(before) > BEFORE:
        head_end = min(block.header + 2, block.start + SIGNATURE - 1)
        signature = [n for n in before if n <= head_end] if start == block.start else []
        tail = BEFORE - len(signature)
        skipped = len(before) - len(signature) - tail
        before = before[-tail:]
    hunk_end = hunk.new_start + max(hunk.new_len, 1) - 1
    stop = block.end
    if index + 1 < len(hunks):
        stop = min(stop, hunks[index + 1].new_start - 1)
    after = list(range(hunk_end + 1, min(stop, total) + 1))
    skipped_after = max(0, len(after) - AFTER)
    after = after[:AFTER]
    if not (before or after or signature):
        return None
    return Around(
        f"{block.kind} {block.name}",
        tuple(signature),
        skipped,
        tuple(before),
        tuple(after),
        skipped_after,
    )
