"""What the persona modules share: the error, the checklist types and a few Markdown readers.

`app.review.persona` is the public surface (it re-exports these); `persona_checklists`,
`persona_sections` and `persona_name` each read one aspect of a persona document.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from app.review.markdown import atx_heading, in_fence


class PersonaError(ValueError):
    """Clear, one-line message naming the source (file) and, for YAML, line and column."""


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    id: str  # stable id, e.g. "security.authz-boundary"; used as the finding's `rule`
    text: str
    explicit: bool = field(default=False, compare=False)  # the document wrote the id itself


@dataclass(frozen=True, slots=True)
class Checklist:
    title: str
    items: tuple[ChecklistItem, ...]


# A list item: `-`, `*`, `+`, `•` or `1.` / `1)`, then its text (group 2); group 1 is the indent.
BULLET = re.compile(r"^([ \t]*)(?:[-*+\u2022]|\d{1,9}[.)])[ \t]+(\S.*)$")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def headings(lines: Sequence[str]) -> Iterator[tuple[int, int, str]]:
    """(index, level, text) of each ATX heading outside fenced code blocks."""
    for i, (line, code) in enumerate(zip(lines, in_fence(lines), strict=True)):
        if not code and (heading := atx_heading(line)) is not None:
            yield i, heading[0], heading[1]


def section_end(found: Sequence[tuple[int, int, str]], pos: int, end: int) -> int:
    """The line where the section of heading `found[pos]` ends: the next heading of the same or a
    higher level, else `end`. (Walks forward, no slicing: linear over a document's headings.)"""
    level = found[pos][1]
    for i in range(pos + 1, len(found)):
        if found[i][1] <= level:
            return found[i][0]
    return end


def slug(text: str) -> str:
    """Lowercase ASCII words joined by `-`: `Data & Storage` -> `data-storage`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
