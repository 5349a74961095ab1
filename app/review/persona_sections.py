"""The parts of a persona document written for a coding agent, left out of the review prompt.

Agent files tell their agent to keep task lists, call tools, answer in their own format, hand
work to other agents, ask the user and wait, or edit files in a workflow. None of that applies
to a reviewer that reads a diff and answers once through the review tool, and some of it
contradicts the framing. A section goes whole when its heading says what it is; a list item or a
sentence goes alone when its words do; a section left with nothing but its heading goes too.
Every part left out is recorded with its heading and the reason (`persona show` prints them).

Documents without Markdown headings (text copied from a web page or a wiki) are read with
heading lines guessed: a short line with no closing punctuation that introduces text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.review.markdown import in_fence
from app.review.persona_agent_rules import METADATA, agent_rule, content_rule
from app.review.persona_parts import BULLET, headings, section_end

TOP = "(top of the document)"


@dataclass(frozen=True, slots=True)
class LeftOut:
    heading: str  # the section's heading, or TOP
    rule: str  # which kind of agent text: "task-management", "tools", ...
    reason: str
    excerpt: str = ""  # the item or sentence left out; "" when the whole section was


# "**ID:** backend-engineer", "**Pipeline Stage**: 4": a line of a metadata card.
_CARD_LINE = re.compile(r"^[ \t]*\*\*[^*]{1,40}(?::\*\*|\*\*:)")
_RULE_LINE = re.compile(r"^ {0,3}(?:-{3,}|\*{3,}|_{3,})[ \t]*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])[ \t]+(?=\S)")
_BARE_BULLET = re.compile(r"^[ \t]*(?:[-*+\u2022]|\d{1,9}[.)])[ \t]*$")
_CLOSING = frozenset(".,;:!?")


def heading_like(line: str) -> bool:
    """A line that could be a heading in a document without Markdown headings."""
    text = line.strip()
    words = text.split()
    return (
        0 < len(words) <= 6
        and len(text) <= 60
        and text[0].isupper()
        and text[-1] not in _CLOSING
        and BULLET.match(line) is None
    )


def section_headings(lines: Sequence[str]) -> list[tuple[int, int, str]]:
    """Markdown headings, or guessed ones when the document has none (all at level 1)."""
    found = list(headings(lines))
    if found:
        return found
    guessed = []
    shown = [i for i, line in enumerate(lines) if line.strip()]
    for pos, i in enumerate(shown):
        if not heading_like(lines[i]) or (pos and _BARE_BULLET.match(lines[shown[pos - 1]])):
            continue  # `-` alone on a line, then the item's text on the next
        following = shown[pos + 1] if pos + 1 < len(shown) else None
        introduces = following is not None and not heading_like(lines[following])
        if introduces or agent_rule(lines[i]) is not None:
            guessed.append((i, 1, lines[i].strip()))
    return guessed


def remove_agent_parts(lines: Sequence[str]) -> tuple[list[str], tuple[LeftOut, ...]]:
    """The lines a reviewer should see, and what was left out (in document order)."""
    text = list(lines)
    found = section_headings(text)
    drop = [False] * len(text)
    left = _drop_sections(found, drop)
    left += _drop_card(text[: found[0][0] if found else len(text)], drop)
    left += _drop_items_and_sentences(text, found, drop)
    left = _drop_emptied_sections(text, found, drop, left)
    kept = [line for line, gone in zip(text, drop, strict=True) if not gone]
    return kept, tuple(record for _, _, record in sorted(left, key=lambda entry: entry[0]))


_Found = Sequence[tuple[int, int, str]]  # (line, level, heading text)
_Left = list[tuple[int, int, LeftOut]]  # (line, the section's heading line or -1, record)


def _drop_sections(found: _Found, drop: list[bool]) -> _Left:
    """Whole sections, by heading; a dropped section's sub-sections go with it. The document's
    title (its one heading of the highest level, holding all the rest) is never dropped."""
    left: _Left = []
    highest = min((level for _, level, _ in found), default=0)
    top = [start for start, level, _ in found if level == highest]
    title_line = top[0] if len(top) == 1 and len(found) > 1 else -1
    until = -1
    for pos, (start, _, title) in enumerate(found):
        if start < until or start == title_line or (rule := agent_rule(title)) is None:
            continue
        until = section_end(found, pos, len(drop))
        drop[start:until] = [True] * (until - start)
        left.append((start, start, LeftOut(title, rule.name, rule.reason)))
    return left


def _drop_card(preamble: Sequence[str], drop: list[bool]) -> _Left:
    """A run of three or more `**Key:** value` lines before the first heading (an agent's
    catalogue card), with the `---` rules around it."""
    shown = [i for i, line in enumerate(preamble) if line.strip()]
    for pos, i in enumerate(shown):
        run = 0
        while pos + run < len(shown) and _CARD_LINE.match(preamble[shown[pos + run]]):
            run += 1
        if run < 3:
            continue
        start, end = pos, pos + run  # positions in `shown`
        if start > 0 and _RULE_LINE.match(preamble[shown[start - 1]]):
            start -= 1
        if end < len(shown) and _RULE_LINE.match(preamble[shown[end]]):
            end += 1
        first, last = shown[start], shown[end - 1]
        drop[first : last + 1] = [True] * (last + 1 - first)
        rule = METADATA
        excerpt = _cut(preamble[i].strip())
        return [(i, -1, LeftOut(TOP, rule.name, rule.reason, excerpt))]
    return []


def _drop_items_and_sentences(text: list[str], found: _Found, drop: list[bool]) -> _Left:
    """List items and sentences whose words are agent instructions, in the sections kept."""
    left: _Left = []
    owner = _owners(len(text), found)
    fence = in_fence(text)
    i = 0
    while i < len(text):
        if drop[i] or fence[i] or not text[i].strip() or owner[i][0] == i:
            i += 1
            continue
        where, heading = owner[i]
        if (bullet := BULLET.match(text[i])) is not None:
            if (rule := content_rule(bullet.group(2))) is not None:
                end = _item_end(text, i, len(bullet.group(1).expandtabs()))
                drop[i:end] = [True] * (end - i)
                record = LeftOut(heading, rule.name, rule.reason, _cut(bullet.group(2)))
                left.append((i, where, record))
                i = end
                continue
        else:
            sentences = _SENTENCE_END.split(text[i].strip())
            kept = []
            for sentence in sentences:
                if (rule := content_rule(sentence)) is None:
                    kept.append(sentence)
                else:
                    left.append(
                        (i, where, LeftOut(heading, rule.name, rule.reason, _cut(sentence)))
                    )
            if not kept:
                drop[i] = True
            elif len(kept) < len(sentences):
                text[i] = " ".join(kept)
        i += 1
    return left


def _drop_emptied_sections(text: list[str], found: _Found, drop: list[bool], left: _Left) -> _Left:
    """A section whose own text was all left out goes with its heading, recorded once."""
    by_section: dict[int, _Left] = {}
    for entry in left:
        by_section.setdefault(entry[1], []).append(entry)
    for pos, (start, level, title) in enumerate(found):
        own = by_section.get(start)
        if drop[start] or not own:
            continue
        following = found[pos + 1] if pos + 1 < len(found) else None
        if following is not None and following[1] > level:
            continue  # it has sub-sections, which were kept
        end = following[0] if following is not None else len(text)
        if any(text[i].strip() and not drop[i] for i in range(start + 1, end)):
            continue
        drop[start:end] = [True] * (end - start)
        by_section[start] = [(start, start, LeftOut(title, own[0][2].rule, own[0][2].reason))]
    return [entry for entries in by_section.values() for entry in entries]


def _owners(count: int, found: _Found) -> list[tuple[int, str]]:
    """For each line, the heading of the section it is in: (its line or -1, its text)."""
    owner: list[tuple[int, str]] = [(-1, TOP)] * count
    for pos, (start, _, title) in enumerate(found):
        end = found[pos + 1][0] if pos + 1 < len(found) else count
        owner[start:end] = [(start, title)] * (end - start)
    return owner


def _item_end(text: Sequence[str], start: int, indent: int) -> int:
    """Just past a list item: its wrapped lines and the items nested under it."""
    i = start + 1
    while i < len(text):
        line = text[i]
        if not line.strip():
            nxt = i + 1
            while nxt < len(text) and not text[nxt].strip():
                nxt += 1  # a run of blank lines is crossed once
            if nxt == len(text) or _indent(text[nxt]) <= indent:
                break
            i = nxt
            continue
        if _indent(line) <= indent and (BULLET.match(line) or _owns_heading(line)):
            break
        i += 1
    return i


def _indent(line: str) -> int:
    return len(line.expandtabs()) - len(line.expandtabs().lstrip())


def _owns_heading(line: str) -> bool:
    return line.lstrip().startswith("#")


def _cut(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"
