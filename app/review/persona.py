"""Personas: who the reviewer is, read from Markdown with optional YAML front matter.

Pure: text in, `Persona` out (`app/jobs/persona_files.py` reads the files). The body is the
reviewer's instructions, less the parts written for coding agents (`persona_sections`);
checklists come from the front matter's `checklists` or from a `Checklists` section of the body
(`persona_checklists`) and extend the built-in ones unless the persona says
`checklists: replace`. Agent files written for other tools (Claude Code subagents, opencode
agents, Copilot prompt files, plain Markdown or text) load too: front-matter keys we do not use
are ignored, and a model that is not a Claude model is dropped with a note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import yaml

from app.review.persona_checklists import (
    ChecklistMode,
    ChecklistSet,
    RawChecklists,
    body_section,
    build_checklists,
    front_matter_checklists,
    merge_checklists,
    type_name,
)
from app.review.persona_name import persona_name
from app.review.persona_parts import Checklist, ChecklistItem, PersonaError, headings
from app.review.persona_sections import LeftOut, remove_agent_parts

__all__ = [
    "DEFAULT_PERSONA",
    "MAX_PERSONA_CHARS",
    "REPO_PERSONAS_DIR",
    "Checklist",
    "ChecklistItem",
    "ChecklistSet",
    "LeftOut",
    "Persona",
    "PersonaError",
    "checklists_for",
    "parse_persona",
    "persona_file_name",
]

DEFAULT_PERSONA = "backend-engineer"
REPO_PERSONAS_DIR = ".github/backend-review/personas"
MAX_PERSONA_CHARS = 64_000  # it goes into every model call

PersonaKind = Literal[
    "backend-review", "claude-code", "opencode", "copilot-prompt", "markdown", "text"
]


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    description: str
    version: str | None
    model: str | None  # only a Claude model; anything else is None plus a note
    checklists: tuple[Checklist, ...]  # the document's own; `checklists_for` adds the built-in
    instructions: str  # the body less front matter, the Checklists section and agent parts
    source: str
    kind: PersonaKind
    notes: tuple[str, ...] = ()
    checklist_mode: ChecklistMode = "extend"
    left_out: tuple[LeftOut, ...] = ()  # parts written for coding agents, not sent

    @property
    def checklist_ids(self) -> tuple[str, ...]:
        return tuple(item.id for checklist in self.checklists for item in checklist.items)


_KNOWN_KEYS = frozenset({"name", "title", "description", "version", "model", "checklists"})
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
    fields = front or {}
    notes: list[str] = []
    ignored = sorted(str(key) for key in fields if str(key) not in _KNOWN_KEYS)
    if ignored:
        notes.append(f"ignored front-matter keys: {', '.join(ignored)}")

    mode: ChecklistMode = "extend"
    raw: RawChecklists = []
    if fields.get("checklists") is not None:
        mode, raw = front_matter_checklists(fields["checklists"], source)
    section = body_section(body)
    if section is not None and raw:
        notes.append("the body's Checklists section was ignored: front matter `checklists` wins")
    elif section is not None:
        raw = section.checklists
        notes.extend(section.notes)
    if section is not None:
        body = body[: section.start] + body[section.end :]
    checklists, repeat_notes = build_checklists(raw, source)
    notes.extend(repeat_notes)
    if mode == "replace" and not checklists:
        raise PersonaError(
            f"{source}: `checklists: replace` needs checklists of its own (a Checklists section)"
        )
    kept, left_out = remove_agent_parts(body)
    instructions = "\n".join(kept).strip()
    if not instructions and not checklists:
        after = " once the parts written for coding agents are left out" if left_out else ""
        raise PersonaError(
            f"{source}: the persona is empty (no instructions and no checklists{after})"
        )

    model, model_note = _claude_model(_text_field(fields, "model", source))
    if model_note:
        notes.append(model_note)
    front_name = _text_field(fields, "name", source) or _text_field(fields, "title", source)
    return Persona(
        name=persona_name(front_name, body, source),
        description=_text_field(fields, "description", source) or "",
        version=_text_field(fields, "version", source),
        model=model,
        checklists=checklists,
        instructions=instructions,
        source=source,
        kind=_kind(front, has_checklists=bool(checklists), body=body, source=source),
        notes=tuple(notes),
        checklist_mode=mode,
        left_out=left_out,
    )


def checklists_for(persona: Persona, builtin: Sequence[Checklist]) -> ChecklistSet:
    """The checklists a review with this persona uses: the built-in ones (the default
    persona's) extended by the persona's, or the persona's alone when it says `replace`."""
    return merge_checklists(persona.checklists, builtin, persona.checklist_mode)


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
            f"{source}: the front matter must be a mapping of keys, not a {type_name(data)}"
        )
    return data, lines[end + 1 :]


def _text_field(front: dict[Any, Any], key: str, source: str) -> str | None:
    value = front.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | date):
        raise PersonaError(
            f"{source}: front matter `{key}` must be text, not a {type_name(value)}"
            + (" (quote it)" if isinstance(value, bool) else "")
        )
    text = str(value)  # a YAML date prints as written: 2025-08-13
    return text.strip() or None


def _claude_model(value: str | None) -> tuple[str | None, str | None]:
    """Keep a Claude model id (an opencode `anthropic/` prefix removed); note anything else."""
    if value is None:
        return None, None
    model = value.removeprefix("anthropic/")
    if "claude" in model.lower() and not any(c.isspace() for c in model):
        return model, None
    return None, f"model {value[:80]!r} is not a Claude model id: using the configured model"


# --- kind -----------------------------------------------------------------------------------


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
    return "markdown" if front is not None or next(headings(body), None) is not None else "text"
