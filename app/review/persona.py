"""Personas: who the reviewer is, read from Markdown with optional YAML front matter.

Pure: text in, `Persona` out (`app/jobs/persona_files.py` reads the files). The body is the
reviewer's instructions; checklists come from the front matter's `checklists` or from a
`Checklists` section of the body. Agent files written for other tools (Claude Code subagents,
opencode agents, Copilot prompt files, plain Markdown or text) load too: front-matter keys we do
not use are ignored, and a model that is not a Claude model is dropped with a note.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import yaml

from app.review.markdown import atx_heading, in_fence

DEFAULT_PERSONA = "backend-engineer"
REPO_PERSONAS_DIR = ".github/backend-review/personas"
MAX_PERSONA_CHARS = 64_000  # it goes into every model call

PersonaKind = Literal[
    "backend-review", "claude-code", "opencode", "copilot-prompt", "markdown", "text"
]


class PersonaError(ValueError):
    """Clear, one-line message naming the source (file) and, for YAML, line and column."""


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    id: str  # stable id, e.g. "security.authz-boundary"; used as the finding's `rule`
    text: str


@dataclass(frozen=True, slots=True)
class Checklist:
    title: str
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    description: str
    version: str | None
    model: str | None  # only a Claude model; anything else is None plus a note
    checklists: tuple[Checklist, ...]
    instructions: str  # the body without front matter and without the Checklists section
    source: str
    kind: PersonaKind
    notes: tuple[str, ...] = ()

    @property
    def checklist_ids(self) -> tuple[str, ...]:
        return tuple(item.id for checklist in self.checklists for item in checklist.items)


_KNOWN_KEYS = frozenset({"name", "description", "version", "model", "checklists"})
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BULLET = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(\S.*)$")
_CHECKLISTS_TITLE = re.compile(r"^(?:review\s+)?checklists?$", re.IGNORECASE)
# "`authz-boundary` Every new endpoint ..." (an optional ":" or dash may follow the id)
_EXPLICIT_ID = re.compile(r"^`([a-z0-9][a-z0-9_-]*)`(?:[ \t]*[:\u2013\u2014-])?[ \t]+(\S.*)$")
_FILE_NAME = re.compile(r"[A-Za-z0-9._-]{1,255}")


def parse_persona(text: str, *, source: str) -> Persona:
    """Parse one persona file's text; `source` names it in messages and in `Persona.source`."""
    if "\x00" in text:
        raise PersonaError(f"{source}: contains a NUL byte (a binary file?)")
    if len(text) > MAX_PERSONA_CHARS:
        raise PersonaError(
            f"{source}: {len(text):,} characters, more than the {MAX_PERSONA_CHARS:,} a persona "
            "may have (it is sent with every model call)"
        )
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    front, body = _split_front_matter(lines, source)
    notes: list[str] = []
    ignored = sorted(str(key) for key in front or {} if str(key) not in _KNOWN_KEYS)
    if ignored:
        notes.append(f"ignored front-matter keys: {', '.join(ignored)}")

    section = _checklists_section(body)
    raw_checklists: list[tuple[str, list[str]]] = []
    if front is not None and front.get("checklists") is not None:
        raw_checklists = _front_matter_checklists(front["checklists"], source)
        if section is not None:
            notes.append(
                "the body's Checklists section was ignored: front matter `checklists` wins"
            )
    elif section is not None:
        raw_checklists = section.checklists
        notes.extend(section.notes)
    if section is not None:
        body = body[: section.start] + body[section.end :]
    checklists = _build_checklists(raw_checklists, source)
    instructions = "\n".join(body).strip()
    if not instructions and not checklists:
        raise PersonaError(f"{source}: the persona is empty (no instructions and no checklists)")

    fields = front or {}
    model, model_note = _claude_model(_text_field(fields, "model", source))
    if model_note:
        notes.append(model_note)
    return Persona(
        name=_text_field(fields, "name", source) or _first_heading(body) or _stem(source),
        description=_text_field(fields, "description", source) or "",
        version=_text_field(fields, "version", source),
        model=model,
        checklists=checklists,
        instructions=instructions,
        source=source,
        kind=_kind(front, has_checklists=bool(checklists), body=body, source=source),
        notes=tuple(notes),
    )


def persona_file_name(name: str) -> str:
    """Normalise a repo config's `persona:` value to a bare file name ("x" -> "x.md")."""
    value = name.strip()
    shown = repr(value[:80])
    if not value:
        raise PersonaError("persona name is empty")
    if "\\" in value:
        raise PersonaError(f"persona {shown}: use '/' in paths, not backslashes")
    if value.startswith("/"):
        raise PersonaError(f"persona {shown}: an absolute path is not allowed")
    if ".." in value.split("/"):
        raise PersonaError(f"persona {shown}: '..' is not allowed")
    directory, _, file = value.rpartition("/")
    if directory and directory not in (REPO_PERSONAS_DIR, "personas"):
        raise PersonaError(
            f"persona {shown}: give a file name, or a file in personas/ or {REPO_PERSONAS_DIR}/"
        )
    if not _FILE_NAME.fullmatch(file) or file.startswith("."):
        raise PersonaError(
            f"persona {shown}: a name uses letters, digits, '.', '_' and '-' only, "
            "and does not start with '.'"
        )
    return file if file.endswith(".md") else f"{file}.md"


# --- front matter -------------------------------------------------------------------------


def _split_front_matter(lines: list[str], source: str) -> tuple[dict[Any, Any] | None, list[str]]:
    """The front matter (None when there is none) and the body's lines."""
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start == len(lines) or lines[start].rstrip() != "---":
        return None, lines
    end = next((i for i in range(start + 1, len(lines)) if lines[i].rstrip() in ("---", "...")), 0)
    if not end:
        return None, lines  # no closing line: the `---` is a horizontal rule
    first_line = start + 2  # 1-based file line of the first YAML line
    try:
        data = yaml.safe_load("\n".join(lines[start + 1 : end]))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {first_line + mark.line}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(exc.problem or exc.context or "unreadable").split())
        raise PersonaError(f"{source}: invalid YAML front matter{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise PersonaError(f"{source}: invalid YAML front matter ({type(exc).__name__})") from None
    if data is None:
        return {}, lines[end + 1 :]
    if not isinstance(data, dict):
        raise PersonaError(
            f"{source}: the front matter must be a mapping of keys, not a {_type_name(data)}"
        )
    return data, lines[end + 1 :]


def _text_field(front: dict[Any, Any], key: str, source: str) -> str | None:
    value = front.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | date):
        raise PersonaError(
            f"{source}: front matter `{key}` must be text, not a {_type_name(value)}"
            + (" (quote it)" if isinstance(value, bool) else "")
        )
    text = str(value)  # a YAML date prints as written: 2025-08-13
    return text.strip() or None


def _front_matter_checklists(value: object, source: str) -> list[tuple[str, list[str]]]:
    """`checklists` as {title: [item, ...]} or [{title, items}, ...], checked for shape."""
    shape = "a mapping of title to a list of items, or a list of {title, items} mappings"
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
            f"{source}: front matter `checklists` must be {shape}, not a {_type_name(value)}"
        )
    out: list[tuple[str, list[str]]] = []
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
    return out


def _claude_model(value: str | None) -> tuple[str | None, str | None]:
    """Keep a Claude model id (an opencode `anthropic/` prefix removed); note anything else."""
    if value is None:
        return None, None
    model = value.removeprefix("anthropic/")
    if "claude" in model.lower() and not any(c.isspace() for c in model):
        return model, None
    return None, f"model {value[:80]!r} is not a Claude model id: using the configured model"


# --- body -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Section:
    start: int  # index of the Checklists heading in the body's lines
    end: int  # index just past the section
    checklists: list[tuple[str, list[str]]]
    notes: list[str]


def _headings(lines: Sequence[str]) -> Iterator[tuple[int, int, str]]:
    """(index, level, text) of each ATX heading outside fenced code blocks."""
    for i, (line, code) in enumerate(zip(lines, in_fence(lines), strict=True)):
        if not code and (heading := atx_heading(line)) is not None:
            yield i, heading[0], heading[1]


def _checklists_section(lines: list[str]) -> _Section | None:
    """The first Checklists section that holds at least one item, parsed."""
    headings = list(_headings(lines))
    for pos, (start, level, title) in enumerate(headings):
        if not _CHECKLISTS_TITLE.match(title.strip("*_ :")):
            continue
        after = headings[pos + 1 :]
        end = next((i for i, other, _ in after if other <= level), len(lines))
        section = _parse_section(lines, start, end, {i: text for i, _, text in after if i < end})
        if section.checklists:
            return section
    return None


def _parse_section(lines: list[str], start: int, end: int, titles: dict[int, str]) -> _Section:
    checklists: list[tuple[str, list[str]]] = [("General", [])]
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
        elif bullet := _BULLET.match(line):
            checklists[-1][1].append(bullet.group(1).strip())
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
    return _Section(start, end, kept, notes)


def _build_checklists(raw: list[tuple[str, list[str]]], source: str) -> tuple[Checklist, ...]:
    seen: set[str] = set()
    out = []
    for index, (title, texts) in enumerate(raw, 1):
        slug = _slug(title) or f"checklist-{index}"
        items = []
        for n, text in enumerate(texts, 1):
            explicit = _EXPLICIT_ID.match(text)
            item_id = f"{slug}.{explicit.group(1) if explicit else n}"
            if item_id in seen:
                raise PersonaError(f"{source}: duplicate checklist item id {item_id!r}")
            seen.add(item_id)
            items.append(ChecklistItem(item_id, explicit.group(2).strip() if explicit else text))
        out.append(Checklist(title, tuple(items)))
    return tuple(out)


def _kind(
    front: dict[Any, Any] | None, *, has_checklists: bool, body: list[str], source: str
) -> PersonaKind:
    tools = front.get("tools") if front else None
    mode = str(front.get("mode", "")).lower() if front else ""
    if front is not None:
        if (
            isinstance(tools, dict)
            or "permission" in front
            or mode in ("subagent", "primary", "all")
        ):
            return "opencode"
        if mode in ("agent", "ask", "edit"):
            return "copilot-prompt"
        if isinstance(tools, str | list) and "name" in front:
            return "claude-code"
    if source.lower().endswith(".prompt.md"):
        return "copilot-prompt"
    if has_checklists or (front is not None and front.keys() <= _KNOWN_KEYS):
        return "backend-review"
    return "markdown" if front is not None or _first_heading(body) is not None else "text"


def _first_heading(lines: Sequence[str]) -> str | None:
    return next((text.strip() for _, _, text in _headings(lines) if text.strip()), None)


def _stem(source: str) -> str:
    name = re.split(r"[/\\]", source)[-1]
    for suffix in (".md", ".markdown", ".txt"):
        name = name.removesuffix(suffix)
    for suffix in (".prompt", ".agent", ".chatmode"):
        name = name.removesuffix(suffix)
    return name or "persona"


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")


def _type_name(value: object) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return "true/false value" if isinstance(value, bool) else type(value).__name__
