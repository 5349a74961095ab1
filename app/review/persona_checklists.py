"""A persona's checklists: read from front matter or a Checklists section, given stable ids,
and put together with the built-in checklists (the default persona's).

An item's id is `<checklist>.<item>`. The item part is an explicit backticked id when the item
starts with one, else the item's own bold label (`**Plan review:** ...` -> `plan-review`), else
its first words (`Validate input at the boundary` -> `validate-input-at-boundary`). It never
depends on the item's position, so editing one item does not change another's id, and a
finding's id (a fingerprint over its rule) stays what people dismissed. Two items that would
get the same id are told apart by a short hash of the later one's text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from app.review.persona_parts import (
    BULLET,
    Checklist,
    ChecklistItem,
    PersonaError,
    headings,
    section_end,
    slug,
)

ChecklistMode = Literal["extend", "replace"]
RawChecklists = list[tuple[str, list[str]]]  # (title, item texts) as written

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CHECKLISTS_TITLE = re.compile(r"^(?:review\s+)?checklists?$", re.IGNORECASE)
# "`authz-boundary` Every new endpoint ..." (an optional ":" or dash may follow the id)
_EXPLICIT_ID = re.compile(r"^`([a-z0-9][a-z0-9_-]*)`(?:[ \t]*[:\u2013\u2014-])?[ \t]+(\S.*)$")
_LABEL = re.compile(r"^\*\*([^*]{1,60})\*\*")  # "**Plan review:** completeness, ..."
_WORD = re.compile(r"[a-z0-9]+")
_SPACE = re.compile(r"\s+")
_FILLER = frozenset({"a", "an", "the"})
_ID_WORDS = 5
_ID_CHARS = 40


@dataclass(frozen=True, slots=True)
class BodySection:
    start: int  # index of the Checklists heading in the body's lines
    end: int  # index just past the section
    checklists: RawChecklists
    notes: list[str]


@dataclass(frozen=True, slots=True)
class ChecklistSet:
    """The checklists a review uses, and where each item came from (`persona show` prints it)."""

    checklists: tuple[Checklist, ...]
    mode: ChecklistMode
    from_document: frozenset[str] = frozenset()  # ids added (or replaced) by the persona
    replaced: frozenset[str] = frozenset()  # built-in ids whose text the persona rewrote
    skipped: tuple[tuple[ChecklistItem, str], ...] = field(default=())  # (item, built-in id)


def front_matter_checklists(value: object, source: str) -> tuple[ChecklistMode, RawChecklists]:
    """`checklists` as {title: [item, ...]}, [{title, items}, ...], or `extend`/`replace`."""
    shape = (
        "a mapping of title to a list of items, a list of {title, items} mappings, "
        "or 'extend' / 'replace'"
    )
    if isinstance(value, str) and value.strip().lower() in ("extend", "replace"):
        return ("replace" if value.strip().lower() == "replace" else "extend"), []
    pairs: list[tuple[object, object]]
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = []
        for n, entry in enumerate(value, 1):
            if not isinstance(entry, dict) or not {"title", "items"} <= entry.keys():
                raise PersonaError(
                    f"{source}: front matter `checklists` entry {n}: expected {shape}"
                )
            pairs.append((entry["title"], entry["items"]))
    else:
        raise PersonaError(
            f"{source}: front matter `checklists` must be {shape}, not a {type_name(value)}"
        )
    out: RawChecklists = []
    for n, (title, items) in enumerate(pairs, 1):
        if not isinstance(title, str) or not title.strip():
            raise PersonaError(f"{source}: front matter `checklists` entry {n}: title must be text")
        where = f"{source}: front matter `checklists` '{title.strip()}'"
        if not isinstance(items, list) or not items:
            raise PersonaError(f"{where}: items must be a non-empty list of text")
        for i, item in enumerate(items, 1):
            if not isinstance(item, str) or not item.strip():
                raise PersonaError(f"{where}: item {i} must be non-empty text")
        out.append((title.strip(), [item.strip() for item in items]))
    return "extend", out


def body_section(lines: list[str]) -> BodySection | None:
    """The first Checklists section that holds at least one item, parsed."""
    found = list(headings(lines))
    titles = {i: text for i, _, text in found}
    for pos, (start, _, title) in enumerate(found):
        if not _CHECKLISTS_TITLE.match(title.strip("*_ :")):
            continue
        end = section_end(found, pos, len(lines))
        section = _parse_section(lines, start, end, titles)
        if section.checklists:
            return section
    return None


def _parse_section(lines: list[str], start: int, end: int, titles: dict[int, str]) -> BodySection:
    checklists: RawChecklists = [("General", [])]
    notes: list[str] = []
    stray = in_item = after_blank = False
    fence = False
    for i in range(start + 1, end):
        line = lines[i]
        if _FENCE.match(line):
            fence, stray, in_item = not fence, True, False
        elif fence:
            continue
        elif i in titles:
            checklists.append((titles[i].strip() or "Checklist", []))
            in_item = False
        elif bullet := BULLET.match(line):
            checklists[-1][1].append(bullet.group(2).strip())
            in_item, after_blank = True, False
        elif not line.strip():
            after_blank = True
        elif in_item and (not after_blank or line.startswith(("  ", "\t"))):
            items = checklists[-1][1]
            items[-1] = f"{items[-1]} {line.strip()}"  # a wrapped item continues
            after_blank = False
        else:
            stray, in_item = True, False
    if stray:
        notes.append("text in the Checklists section that is not a list item was ignored")
    for title, items in checklists[1:]:
        if not items:
            notes.append(f"checklist {title!r} has no items and was skipped")
    kept = [(title, items) for title, items in checklists if items]
    return BodySection(start, end, kept, notes)


def build_checklists(raw: RawChecklists, source: str) -> tuple[tuple[Checklist, ...], list[str]]:
    """Checklists with their ids, and notes about repeated items that were left out."""
    titles: dict[str, str] = {}
    notes: list[str] = []
    out = []
    for index, (title, texts) in enumerate(raw, 1):
        prefix = slug(title) or f"checklist-{index}"
        if prefix in titles:
            raise PersonaError(
                f"{source}: checklists {titles[prefix]!r} and {title!r} have the same id "
                f"{prefix!r}: rename one"
            )
        titles[prefix] = title
        items = _items(prefix, texts, source, notes)
        out.append(Checklist(title, items))
    return tuple(out), notes


def _items(
    prefix: str, texts: list[str], source: str, notes: list[str]
) -> tuple[ChecklistItem, ...]:
    explicit = [_EXPLICIT_ID.match(text) for text in texts]
    taken: set[str] = set()
    for match in explicit:
        if match is not None:
            item_id = f"{prefix}.{match.group(1)}"
            if item_id in taken:
                raise PersonaError(f"{source}: duplicate checklist item id {item_id!r}")
            taken.add(item_id)
    seen_texts: set[str] = set()
    repeats: list[str] = []
    items = []
    for text, match in zip(texts, explicit, strict=True):
        body = match.group(2).strip() if match else text
        if normal_text(body) in seen_texts:
            repeats.append(body)
            continue
        seen_texts.add(normal_text(body))
        if match is not None:
            items.append(ChecklistItem(f"{prefix}.{match.group(1)}", body, explicit=True))
            continue
        item_id = f"{prefix}.{_derived_id(body)}"
        if item_id in taken:
            item_id = f"{item_id}-{text_hash(body)}"
        taken.add(item_id)
        items.append(ChecklistItem(item_id, body))
    if repeats:
        more = f" (and {len(repeats) - 1} more)" if len(repeats) > 1 else ""
        notes.append(f"checklist item {repeats[0][:60]!r} appears twice{more}; kept once")
    return tuple(items)


def _derived_id(text: str) -> str:
    label = _LABEL.match(text)
    plain = (label.group(1) if label else text).replace("'", "").replace("\u2019", "")
    words = _WORD.findall(slug(plain))  # "the order's owner" -> the, orders, owner
    if not label:
        words = [w for w in words if w not in _FILLER] or words
    kept: list[str] = []
    for word in words[:_ID_WORDS]:
        if kept and len("-".join([*kept, word])) > _ID_CHARS:
            break
        kept.append(word[:_ID_CHARS])
    return "-".join(kept) or text_hash(text)


def normal_text(text: str) -> str:
    """The text as compared for repeats: case, blanks and trailing punctuation ignored."""
    return _SPACE.sub(" ", text).strip().rstrip(".;:!").casefold()


def text_hash(text: str) -> str:
    return hashlib.sha256(normal_text(text).encode()).hexdigest()[:6]


def merge_checklists(
    own: Sequence[Checklist], builtin: Sequence[Checklist], mode: ChecklistMode
) -> ChecklistSet:
    """The persona's checklists on top of the built-in ones (`extend`), or alone (`replace`).

    Extending: an item goes into the built-in checklist with the same id (`Security` ->
    `security`), else into a new checklist after them. An item with a built-in item's text is
    left out (it is already there). An item with a built-in item's explicit id rewrites that
    item's text; a derived id that happens to equal a built-in id gets a hash suffix instead.
    """
    own_ids = frozenset(item.id for checklist in own for item in checklist.items)
    if mode == "replace" and own:
        return ChecklistSet(tuple(own), mode, from_document=own_ids)
    merged: dict[str, tuple[str, list[ChecklistItem]]] = {
        slug(c.title): (c.title, list(c.items)) for c in builtin
    }
    builtin_ids = {item.id for c in builtin for item in c.items}
    builtin_texts = {normal_text(item.text): item.id for c in builtin for item in c.items}
    added: set[str] = set()
    replaced: set[str] = set()
    skipped: list[tuple[ChecklistItem, str]] = []
    for checklist in own:
        _, items = merged.setdefault(slug(checklist.title), (checklist.title, []))
        for item in checklist.items:
            if (same := builtin_texts.get(normal_text(item.text))) is not None:
                skipped.append((item, same))
            elif item.id in builtin_ids and item.explicit:
                _replace(merged.values(), item)
                replaced.add(item.id)
                added.add(item.id)
            else:
                new_id = item.id
                if new_id in builtin_ids:
                    new_id = f"{item.id}-{text_hash(item.text)}"
                items.append(ChecklistItem(new_id, item.text, explicit=item.explicit))
                added.add(new_id)
    checklists = tuple(Checklist(title, tuple(items)) for title, items in merged.values() if items)
    return ChecklistSet(checklists, "extend", frozenset(added), frozenset(replaced), tuple(skipped))


def _replace(lists: Iterable[tuple[str, list[ChecklistItem]]], item: ChecklistItem) -> None:
    for _, items in lists:
        for n, old in enumerate(items):
            if old.id == item.id:
                items[n] = item
                return


def type_name(value: object) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return "true/false value" if isinstance(value, bool) else type(value).__name__
