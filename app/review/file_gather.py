"""Which whole files a review reads, and the FileContext made of what was read, within limits.

Gathering is three steps; the reading is the caller's (GitHub for the App, `git show` or the
working tree for the CLI), the deciding is here:

    plan = plan_reads(diff, ignore, limits)            # which (side, path) to read
    texts = read(plan.reads + hops_of_known_texts)     # one GraphQL request, or git
    more = hops_for(route files read)                  # one import away, if calls remain
    context = assemble(diff, plan, texts, limits)

What is read: each reviewed code file of the change (not tests, docs, ignored or binary
files), most important first (`review_priority`), at most `max_files`; its head text, and its
base text when it is a migration, route, auth or model file (the ones whose rules compare
before and after). An added file's head and a removed file's base are the diff itself: no read.

Limits: a text over `file_bytes` (or one GitHub cut at 512,000 bytes) is cut around the hunks
(`cut_around`, lines far from them blanked, numbers kept); once `review_bytes` are used, later
files are cut tighter, then left out; sizes count the bytes of non-blank lines. A text whose
lines disagree with the diff (a working tree edited since the diff was made) is left out.
Everything left out is named in `FileContext.notes`, which the review shows as missing context.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from app.review.chunking import review_priority
from app.review.diff_model import Diff, FileDiff
from app.review.file_context import FileContext, FileText, cut_around
from app.review.files import classify, ignored_reason, is_code
from app.review.rules.code_text import lang_of
from app.review.rules.route_table import declares_route

Side = Literal["head", "base"]
RADII = (200, 80, 30, 10, 3, 0)  # lines kept around each hunk line, widest that fits first
MAX_LISTED = 5  # paths named in one note
COMPARED = 2  # review_priority at or below which the base text is read too


@dataclass(frozen=True, slots=True)
class ContextLimits:
    max_files: int = 50
    file_bytes: int = 200_000
    review_bytes: int = 2_000_000
    max_calls: int = 2
    hop_files: int = 6


@dataclass(frozen=True, slots=True)
class Read:
    side: Side
    path: str  # the path at that side (the old path for a renamed file's base)


@dataclass(frozen=True, slots=True)
class Fetched:
    """One text as the reader found it; None in a reader's answer means no file there."""

    text: str | None  # None: binary
    byte_size: int
    truncated: bool = False  # the reader got only the first part (GitHub: 512,000 bytes)


@dataclass(frozen=True, slots=True)
class ReadPlan:
    files: tuple[FileDiff, ...]  # the files whose texts the context will hold, in order
    reads: tuple[Read, ...]
    left_out: tuple[str, ...]  # over max_files


def plan_reads(diff: Diff, ignore: Sequence[str], limits: ContextLimits) -> ReadPlan:
    candidates = sorted(
        (f for f in diff.files if _wanted(f, ignore)),
        key=lambda f: (review_priority(f), f.path),
    )
    chosen, left_out = candidates[: limits.max_files], candidates[limits.max_files :]
    reads: list[Read] = []
    for file in chosen:
        if file.status not in ("added", "removed"):
            reads.append(Read("head", file.path))
            if _compared(file):
                reads.append(Read("base", file.old_path or file.path))
    return ReadPlan(tuple(chosen), tuple(reads), tuple(f.path for f in left_out))


def _compared(file: FileDiff) -> bool:
    """Whether the base text is read too: for migrations, routes, auth and models (by their
    path), and for any file whose change may declare a route wherever it lives (`app/main.py`,
    `app/users.py`): a new route's guard is judged against its siblings in the base."""
    if review_priority(file) <= COMPARED:
        return True
    added = "\n".join(line.text for line in file.added_lines())
    return declares_route(lang_of(file.path), file.path, added)


def _wanted(file: FileDiff, ignore: Sequence[str]) -> bool:
    if file.is_binary or file.no_patch or file.mode_only or not file.hunks:
        return False
    if ignored_reason(file.path, ignore) is not None or not is_code(file.path):
        return False
    return classify(file.path).kind not in ("test", "docs")


def diff_text(file: FileDiff, side: Side) -> str | None:
    """The whole text the diff holds: an added file's head, a removed file's base."""
    if (side == "head") != (file.status == "added") or file.status not in ("added", "removed"):
        return None
    kind = "added" if side == "head" else "removed"
    return "".join(ln.text + "\n" for ln in file.lines() if ln.kind == kind)


def base_from_head(file: FileDiff, head: str) -> str | None:
    """The file before the change, rebuilt from its text after the change and the diff's
    hunks read backwards; None when `head` does not match the diff (it was edited since).

    For a diff with no commits to read from (a file, stdin), where the working tree holds
    the head only: the rules that compare before and after (a new route against its
    siblings, a guard removed) see the same base a branch review reads from git."""
    lines = head.split("\n")
    out: list[str] = []
    at = 0  # the next head line (0-based) not yet copied
    for hunk in file.hunks:
        first = hunk.new_start - 1 if hunk.new_len else hunk.new_start
        if first < at or first > len(lines):
            return None
        out.extend(lines[at:first])
        at = first
        for line in hunk.lines:
            if line.kind == "removed":
                out.append(line.text)
                continue
            if at >= len(lines) or lines[at] != line.text:
                return None
            if line.kind == "context":
                out.append(line.text)
            at += 1
    out.extend(lines[at:])
    return "\n".join(out)


def known_texts(plan: ReadPlan) -> list[tuple[str, str]]:
    """(path, head text) of the planned files whose head the diff already holds."""
    out = []
    for file in plan.files:
        text = diff_text(file, "head")
        if text is not None:
            out.append((file.path, text))
    return out


def assemble(
    plan: ReadPlan,
    found: Mapping[Read, Fetched | None],
    limits: ContextLimits,
    *,
    extra: Iterable[tuple[str, Fetched | None]] = (),
    notes: Iterable[str] = (),
) -> FileContext:
    """The context of the planned files (and `extra` ones, e.g. a router's module, head only)
    from what was read, within the limits; what is missing is said in `notes`."""
    budget = _Budget(limits.review_bytes)
    texts: list[FileText] = []
    problems: dict[str, list[str]] = {}
    for file in plan.files:
        head, why_head = _side(file, "head", found, limits, budget)
        base, why_base = _side(file, "base", found, limits, budget)
        for why in (why_head, why_base):
            if why:
                problems.setdefault(why, []).append(file.path)
        if head.text is not None or base.text is not None:
            texts.append(FileText(file.path, head.text, base.text, head.cut or base.cut))
    for path, fetched in extra:
        if fetched is None or fetched.text is None:
            continue
        text, cut = _head_only(fetched, limits.file_bytes)
        if budget.take(text):
            texts.append(FileText(path, text, None, cut))
    out = list(notes)
    if plan.left_out:
        problems.setdefault(f"over the limit of {limits.max_files} files", []).extend(plan.left_out)
    for why, paths in problems.items():
        out.append(_note(why, paths))
    return FileContext.of(texts, out)


@dataclass(slots=True)
class _Text:
    text: str | None = None
    cut: bool = False


def kept_bytes(text: str) -> int:
    """Bytes of a text's non-blank lines: what a cut text holds (its blank lines cost one
    newline each, and keep the numbering)."""
    return sum(len(line.encode("utf-8", "surrogatepass")) + 1 for line in text.split("\n") if line)


class _Budget:
    def __init__(self, total: int) -> None:
        self.left = total

    def take(self, text: str) -> bool:
        size = kept_bytes(text)
        if size > self.left:
            return False
        self.left -= size
        return True


def _side(
    file: FileDiff,
    side: Side,
    found: Mapping[Read, Fetched | None],
    limits: ContextLimits,
    budget: _Budget,
) -> tuple[_Text, str | None]:
    """One side's text, cut to the limits, or why there is none (None: nothing to say)."""
    whole = diff_text(file, side)
    truncated = False
    if whole is None:
        read = Read(side, file.path if side == "head" else (file.old_path or file.path))
        if read not in found:
            return _Text(), None  # not asked for (a base no rule compares), or over max_calls
        fetched = found[read]
        if fetched is None:
            return _Text(), f"not found at the {side} commit"
        if fetched.text is None:
            return _Text(), None  # binary: nothing to read
        whole, truncated = fetched.text, fetched.truncated
        if truncated:  # the last line may be cut short: keep whole lines only
            whole = whole[: whole.rfind("\n") + 1]
    if not _agrees(file, whole, side, partial=truncated):
        return _Text(), f"the {side} text does not match the diff"
    keep = [
        n for h in file.hunks for n in (h.numbers("RIGHT") if side == "head" else h.numbers("LEFT"))
    ]
    fits = len(whole.encode("utf-8", "surrogatepass")) <= limits.file_bytes and not truncated
    if fits and budget.take(whole):
        return _Text(whole), None
    for radius in RADII:
        cut = cut_around(whole, keep, radius)
        if kept_bytes(cut) <= limits.file_bytes and budget.take(cut):
            return _Text(cut, cut=True), None
    return _Text(), f"over the review's limit of {limits.review_bytes:,} bytes of file text"


def _agrees(file: FileDiff, text: str, side: Side, *, partial: bool) -> bool:
    """Whether every line the diff shows on `side` is that line of `text` (of the lines there
    are, when the text is only the file's first part)."""
    lines = text.split("\n")
    for line in file.lines():
        number = line.new_no if side == "head" else line.old_no
        if number is None or (partial and number >= len(lines)):
            continue
        if number > len(lines) or lines[number - 1].rstrip("\r") != line.text.rstrip("\r"):
            return False
    return True


def _head_only(fetched: Fetched, file_bytes: int) -> tuple[str, bool]:
    text = fetched.text or ""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= file_bytes and not fetched.truncated:
        return text, False
    head = data[:file_bytes].decode("utf-8", "ignore")
    return head[: head.rfind("\n") + 1], True


def _note(why: str, paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:MAX_LISTED])
    more = f" and {len(paths) - MAX_LISTED} more" if len(paths) > MAX_LISTED else ""
    files = "file" if len(paths) == 1 else "files"
    return f"whole text of {len(paths)} {files} not read ({why}): {shown}{more}; hunks only"
