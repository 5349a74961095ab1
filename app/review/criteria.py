"""Acceptance criteria in a Linear issue's Markdown description (pure).

A section titled "Acceptance criteria", "AC" or "Definition of done" (a heading of any level, a
bold line or a `Label:` line) gives its list items; failing that, the description's task-list
items do. Nested items are folded into their parent, so the count matches what the author
listed. Code blocks are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.review.markdown import atx_heading, in_fence

MAX_CRITERIA = 20
MAX_CRITERION_CHARS = 500

_CRITERIA_TITLES = frozenset({"acceptance criteria", "ac", "definition of done"})
_PSEUDO_LEVEL = 7  # a bold line or a `Label:` line: below every Markdown heading
_MAX_DEPTH = 8  # nested lists deeper than this are folded into the eighth level
# Whitespace runs are possessive: `[ \t]*:?[ \t]*` could split one run many ways.
_BOLD = re.compile(r"^[ \t]*+(\*\*|__)(.+?)\1[ \t]*+:?[ \t]*+$")
_LABEL = re.compile(r"^[ \t]*([^\s#>*+\-|][^:]{0,60}):[ \t]*$")
_LIST_ITEM = re.compile(r"^([ \t]*+)(?:[-*+]|\d{1,9}[.)])(?:[ \t]++(.*))?$")
_CHECKBOX = re.compile(r"^\[[ xX]\](?:[ \t]+|$)")
_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*+\1){2,}+[ \t]*+$")


@dataclass(slots=True)
class _Item:
    indent: int
    parts: list[str]
    task: bool
    children: list[_Item] = field(default_factory=list)


def acceptance_criteria(description: str) -> tuple[str, ...]:
    """The issue's acceptance criteria: the list items under an "Acceptance criteria", "AC" or
    "Definition of done" heading (a Markdown heading, a bold line or a `Label:` line), else its
    task-list items (`- [ ]`), else none.

    A nested item is folded into its parent (`parent: child; child`), so each criterion reads
    on its own and the count is what the author listed. At most 20, each at most 500 characters.
    """
    lines = [line.expandtabs(4) for line in description.splitlines()]
    lines = ["" if code else line for line, code in zip(lines, in_fence(lines), strict=True)]
    found = [_fold(item) for section in _sections(lines) for item in _list(section)]
    if not any(found):
        found = [_fold(item) for item in _outermost_tasks(_list(lines))]
    criteria = [_clip(text) for text in found if text]
    return tuple(criteria[:MAX_CRITERIA])


def _heading(line: str) -> tuple[int, str] | None:
    """(level, title) of a Markdown heading or a bold-only line; None for anything else."""
    atx = atx_heading(line)
    if atx is not None:
        return atx
    bold = _BOLD.match(line)
    return (_PSEUDO_LEVEL, bold.group(2)) if bold else None


def _is_criteria_title(title: str) -> bool:
    return " ".join(re.sub(r"[^a-z ]", " ", title.lower()).split()) in _CRITERIA_TITLES


def _sections(lines: Sequence[str]) -> list[list[str]]:
    """The lines under each acceptance-criteria heading, up to the next heading of its level."""
    sections: list[list[str]] = []
    level = 0  # of the open section; 0 when none is open
    started = False  # whether the open section's list has begun
    after_blank = False
    for line in lines:
        heading = _heading(line)
        item = _LIST_ITEM.match(line)
        label = _LABEL.match(line) if heading is None and not item else None
        if level:
            # A pseudo-heading only introduces the list after it: its section also ends at a
            # bold line, a `Label:`, or a paragraph once the list has begun (before, such lines
            # introduce the list).
            paragraph = after_blank and not item and not line[:1].isspace()
            ends = heading is not None and heading[0] <= level
            ends = ends or (level == _PSEUDO_LEVEL and started and (label is not None or paragraph))
            after_blank = not line.strip()
            if not ends:
                sections[-1].append(line)
                started = started or item is not None
                continue
            level = 0
        if heading is not None and _is_criteria_title(heading[1]):
            level = heading[0]
        elif label is not None and _is_criteria_title(label.group(1)):
            level = _PSEUDO_LEVEL
        if level:
            sections.append([])
            started = after_blank = False
    return sections


def _list(lines: Sequence[str]) -> list[_Item]:
    """The top-level list items in the lines, each with its nested items and continuations."""
    roots: list[_Item] = []
    stack: list[_Item] = []
    blank = False
    for line in lines:
        item = None if _BREAK.match(line) else _LIST_ITEM.match(line)
        if not line.strip():
            blank = True
            continue
        if item:
            indent, text = len(item.group(1)), item.group(2) or ""
            box = _CHECKBOX.match(text)
            while stack and (stack[-1].indent >= indent or len(stack) >= _MAX_DEPTH):
                stack.pop()
            node = _Item(indent, [text[box.end() :] if box else text], box is not None)
            (stack[-1].children if stack else roots).append(node)
            stack.append(node)
        elif stack and not blank and not _BREAK.match(line) and _heading(line) is None:
            stack[-1].parts.append(line)  # a lazy continuation of the item's paragraph
        elif stack and len(line) - len(line.lstrip()) > stack[0].indent:
            depth = len(line) - len(line.lstrip())
            while len(stack) > 1 and stack[-1].indent >= depth:
                stack.pop()
            stack[-1].parts.append(line)  # a later paragraph of an item, indented under it
        else:
            stack.clear()  # a paragraph, heading or rule: the list has ended
        blank = False
    return roots


def _outermost_tasks(items: Sequence[_Item]) -> list[_Item]:
    tasks: list[_Item] = []
    for item in items:
        tasks += [item] if item.task else _outermost_tasks(item.children)
    return tasks


def _fold(item: _Item) -> str:
    text = " ".join(" ".join(item.parts).split())
    children = [folded for folded in map(_fold, item.children) if folded]
    if not children:
        return text
    if not text:
        return "; ".join(children)
    return f"{text}{' ' if text.endswith(':') else ': '}{'; '.join(children)}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CRITERION_CHARS else text[: MAX_CRITERION_CHARS - 1] + "…"
