"""`backend-review persona show FILE`: what a persona file becomes for the review.

The name, description and model it gives, its checklists on top of the built-in ones (each
item's id and whether it is built-in or from the document), the items it repeats, and the parts
written for coding agents that are left out of the prompt, with why. Exit 0, or 2 with one line
on stderr when the file cannot be read or parsed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.jobs.persona_files import bundled_personas_dir, load_persona_file
from app.review.persona import DEFAULT_PERSONA, ChecklistSet, Persona, PersonaError, checklists_for
from app.settings import load_local_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    persona = subparsers.add_parser("persona", help="inspect persona files")
    actions = persona.add_subparsers(dest="persona_command", required=True, metavar="ACTION")
    show = actions.add_parser(
        "show",
        help="print what a persona file becomes: name, checklists with ids, what is left out",
        description=(
            "Print what a persona file becomes for the review: its name, its checklists with "
            "their ids (built-in or from the document) and the parts written for coding "
            "agents that are left out of the prompt, with why. Exit 2 on a malformed file."
        ),
    )
    show.add_argument("file", metavar="FILE", help="the persona file")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    show.add_argument(
        "--instructions", action="store_true", help="also print the instructions sent"
    )
    show.set_defaults(func=cmd_persona_show)


def cmd_persona_show(args: argparse.Namespace) -> int:
    try:
        path = Path(args.file)
        if path.is_dir():
            raise PersonaError(
                f"{args.file} is a directory, not a persona file: give the path of the persona "
                "file itself (one Markdown document)"
            )
        if not path.is_file():
            raise PersonaError(f"persona file not found: {args.file}")
        persona = load_persona_file(path)
        builtin_path = (
            bundled_personas_dir(load_local_settings().personas_dir) / f"{DEFAULT_PERSONA}.md"
        )
        builtin = load_persona_file(builtin_path)
    except PersonaError as exc:
        sys.stderr.write(f"backend-review: error: {' '.join(str(exc).split())}\n")
        return 2
    merged = checklists_for(persona, builtin.checklists)
    if args.json:
        sys.stdout.write(json.dumps(as_dict(persona, merged), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(as_text(persona, merged, instructions=args.instructions))
    return 0


def as_dict(persona: Persona, merged: ChecklistSet) -> dict[str, Any]:
    return {
        "name": persona.name,
        "description": persona.description,
        "kind": persona.kind,
        "source": persona.source,
        "version": persona.version,
        "model": persona.model,
        "checklists_mode": merged.mode,
        "checklists": [
            {
                "title": checklist.title,
                "items": [
                    {"id": item.id, "origin": _origin(item.id, merged), "text": item.text}
                    for item in checklist.items
                ],
            }
            for checklist in merged.checklists
        ],
        "repeats_left_out": [{"text": item.text, "same_as": same} for item, same in merged.skipped],
        "left_out": [
            {"heading": part.heading, "rule": part.rule, "reason": part.reason}
            | ({"excerpt": part.excerpt} if part.excerpt else {})
            for part in persona.left_out
        ],
        "notes": list(persona.notes),
        "instructions": persona.instructions,
    }


def as_text(persona: Persona, merged: ChecklistSet, *, instructions: bool = False) -> str:
    own = len(merged.from_document)
    total = sum(len(c.items) for c in merged.checklists)
    how = (
        "the document's own, replacing the built-in ones"
        if merged.mode == "replace"
        else f"the built-in ones, {own} item(s) added or rewritten by the document"
    )
    out = [
        f"persona: {persona.name}",
        f"file: {persona.source} ({persona.kind})",
    ]
    if persona.description:
        out.append(f"description: {persona.description}")
    out.append(f"model: {persona.model or 'the configured model'}")
    out += ["", f"checklists: {total} item(s): {how}"]
    width = max((len(i.id) for c in merged.checklists for i in c.items), default=0)
    for checklist in merged.checklists:
        out.append(f"  {checklist.title}")
        for item in checklist.items:
            origin = _origin(item.id, merged)
            out.append(f"    {item.id:<{width}}  {origin:<9}  {_short(item.text)}")
    for item, same in merged.skipped:
        out.append(f"  not added, the same as {same}: {_short(item.text)}")
    out += ["", f"left out of the prompt: {len(persona.left_out) or 'nothing'}"]
    for part in persona.left_out:
        what = f'"{part.heading}"' + (f": {part.excerpt}" if part.excerpt else " (section)")
        out.append(f"  {what}")
        out.append(f"    why: {part.reason}")
    for note in persona.notes:
        out.append(f"note: {note}")
    out += ["", f"instructions: {len(persona.instructions):,} characters sent"]
    if instructions:
        out += ["", persona.instructions]
    return "\n".join(out) + "\n"


def _origin(item_id: str, merged: ChecklistSet) -> str:
    if item_id in merged.replaced:
        return "rewritten"
    return "document" if item_id in merged.from_document else "built-in"


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"
