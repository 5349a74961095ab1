"""A persona's name, from the document's own identity.

In order: front matter `name` or `title`; a catalogue card's `**Name:**`, `**Title:**` or
`**Persona:**` line before the first heading; the first heading that names something (not
`Role`, `Overview`, `Instructions`, nor, below a `#` title, an agent section's heading such as
`Task Management`); the first short line that reads like a title; the file's name, unless it
is a generated one (`000_b1ace95ce082997e`); else `persona`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.review.persona_agent_rules import agent_rule, heading_words
from app.review.persona_parts import headings
from app.review.persona_sections import heading_like

FALLBACK = "persona"
_MAX_NAME = 80
_CARD_FIELDS = ("name", "title", "persona")  # in order of preference
# "**Name:** x" or "**Name**: x" (group 1 the field, group 2 the value)
_CARD = re.compile(
    r"^[ \t]*\*\*[ \t]*(name|title|persona)[ \t]*(?::\*\*|\*\*[ \t]*:)[ \t]*(\S.*)$", re.I
)
_GENERATED = re.compile(r"[0-9a-f]{8,}")  # a hash in a file name
_MARKUP = frozenset("*_`")
_GENERIC = frozenset(
    {
        "about",
        "agent",
        "background",
        "context",
        "contents",
        "core objectives",
        "core responsibilities",
        "description",
        "goals",
        "guidelines",
        "identity",
        "identity and context",
        "instructions",
        "introduction",
        "mission",
        "notes",
        "objectives",
        "overview",
        "persona",
        "personality",
        "profile",
        "prompt",
        "purpose",
        "responsibilities",
        "role",
        "role definition",
        "rules",
        "scope",
        "summary",
        "system prompt",
        "table of contents",
        "task",
    }
)


def persona_name(front_name: str | None, body: Sequence[str], source: str) -> str:
    """The persona's name (see the module docstring for the order)."""
    if front_name:
        return front_name
    found = list(headings(body))
    first_heading = found[0][0] if found else len(body)
    candidates = [
        _card_name(body[:first_heading]),
        next((n for _, level, text in found if (n := _naming(text, title=level == 1))), None),
        next((n for line in body if heading_like(line) and (n := _naming(line))), None),
        _stem_name(source),
    ]
    return next((c for c in candidates if c), FALLBACK)


def _card_name(preamble: Sequence[str]) -> str | None:
    fields: dict[str, str] = {}
    for line in preamble:
        if (match := _CARD.match(line)) is not None:
            value = match.group(2).strip().strip("*`'\" ").strip()
            fields.setdefault(match.group(1).lower(), value)
    return next((fields[f][:_MAX_NAME] for f in _CARD_FIELDS if fields.get(f)), None)


def _naming(text: str, *, title: bool = False) -> str | None:
    """The text as a name, or None when it is a generic heading, or an agent section's that
    is not a `#` title (`# Development process reviewer` names; `## Task Management` not)."""
    name = "".join(c for c in text if c not in _MARKUP).strip().strip(":").strip()
    words = heading_words(name)
    agent = not title and agent_rule(name) is not None
    if not words or words in _GENERIC or agent or len(name) > _MAX_NAME:
        return None
    return name.title() if name.isupper() and len(name) > 3 else name


def _stem_name(source: str) -> str | None:
    name = re.split(r"[/\\]", source)[-1]
    for suffix in (".md", ".markdown", ".txt"):
        name = name.removesuffix(suffix)
    for suffix in (".prompt", ".agent", ".chatmode"):
        name = name.removesuffix(suffix)
    generated = _GENERATED.search(name.lower())
    return None if not name or (generated and any(c.isdigit() for c in generated.group())) else name
