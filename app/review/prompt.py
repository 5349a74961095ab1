"""The prompt for one model call: stable system blocks, then the call's data in fenced blocks.

System blocks (cached; the same for every call on a repository): how to review and answer,
the persona, its checklists, the repository's path instructions. The user message holds the
pull request's text, linked tickets, the rule findings and the diff part, each inside a block
whose nonce is a hash of its content, so the content cannot contain its own closing line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from app.review.chunking import ChunkPart
from app.review.code_view import CodeView, around
from app.review.diff import DiffLine, FileDiff, quote_path
from app.review.findings import Finding
from app.review.persona import Checklist, Persona
from app.review.prompt_text import CLOSING, CRITERIA_NOTE, FRAMING, PART_NOTE, UNTRUSTED_NOTE
from app.review.repo_config import RepoConfig

MAX_LINE_CHARS = 1_000  # minified or generated lines: the start says enough
MAX_TEXT_CHARS = 20_000  # a PR body or ticket that long is pasted logs, not a description
_NO_VIEWS: Mapping[str, CodeView] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class PullRequestText:
    title: str
    body: str
    branch: str = ""
    commits: tuple[str, ...] = ()  # commit messages, oldest first


@dataclass(frozen=True, slots=True)
class TicketText:
    identifier: str
    title: str
    url: str
    text: str
    criteria: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Prompt:
    system: tuple[str, ...]
    user: str


def system_blocks(
    persona: Persona, checklists: Sequence[Checklist], config: RepoConfig, *, tool: str
) -> tuple[str, ...]:
    """The system prompt: framing, persona, checklists, path instructions (in that order)."""
    blocks = [FRAMING.replace("{tool}", tool), _persona_block(persona)]
    blocks.append(_checklists_block(checklists))
    if config.path_instructions:
        lines = ["## Instructions from the repository, by path"]
        lines += [f"- `{glob}`: {text}" for glob, text in config.path_instructions.items()]
        blocks.append("\n".join(lines))
    return tuple(blocks)


def _persona_block(persona: Persona) -> str:
    head = f"## The reviewer: {persona.name}"
    if persona.description:
        head += f"\n{persona.description}"
    return f"{head}\n\n{persona.instructions}".strip()


def _checklists_block(checklists: Sequence[Checklist]) -> str:
    lines = ["## Checklists", "Each item's id (in brackets) is what a finding gives as `rule`."]
    for checklist in checklists:
        lines.append(f"### {checklist.title}")
        lines += [f"- [{item.id}] {item.text}" for item in checklist.items]
    return "\n".join(lines)


def user_message(
    *,
    parts: Sequence[ChunkPart],
    pr: PullRequestText | None = None,
    tickets: Sequence[TicketText] = (),
    rule_findings: Sequence[Finding] = (),
    part: int = 1,
    parts_total: int = 1,
    all_paths: Sequence[str] = (),
    views: Mapping[str, CodeView] = _NO_VIEWS,
    tool: str,
) -> str:
    """The user message of one call: notes, then the data blocks, then the request. `views`
    holds the head files the diff's hunks are shown in (see `render_part`)."""
    out = [UNTRUSTED_NOTE]
    if parts_total > 1:
        # File names come from the pull request: listed in a block, never in the note itself.
        out.append(PART_NOTE.format(part=part, parts=parts_total))
        out.append(data_block("FILES", "\n".join(quote_path(p) for p in all_paths)))
    if pr is not None:
        out.append(data_block("PULL_REQUEST", _pr_text(pr)))
    for ticket in tickets:
        out.append(data_block("TICKET", _ticket_text(ticket)))
    shown = {p.file.path for p in parts}
    facts = [f for f in rule_findings if f.where.path in shown or f.where.path not in all_paths]
    if facts:
        out.append("Findings the rules already reported (facts; do not repeat them):")
        out.append(data_block("RULE_FINDINGS", "\n".join(_fact(f) for f in facts)))
    out.append(data_block("DIFF", "\n".join(render_part(p, views.get(p.file.path)) for p in parts)))
    if any(t.criteria for t in tickets):
        out.append(CRITERIA_NOTE)
    out.append(CLOSING.replace("{tool}", tool))
    return "\n\n".join(out)


def data_block(name: str, content: str) -> str:
    nonce = hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"<<<BEGIN {name} {nonce}>>>\n{content}\n<<<END {name} {nonce}>>>"


def render_part(part: ChunkPart, view: CodeView | None = None) -> str:
    """One file (or one part of a split file), each line with its OLD and NEW numbers; with a
    `view` of the head file, each hunk inside its enclosing function or class (unchanged lines
    marked `=`) and, on a file's first part, the file's outline."""
    file = part.file
    out = [_file_line(file, part)]
    if view is not None and view.outline and part.part == 1:
        cut = ", lines far from the changes not read" if view.cut else ""
        out.append(f"  outline of the file at the head commit{cut}:")
        out += [f"    {line}" for line in view.outline]
    out.append("  OLD   NEW")
    shown = 0
    for index, hunk in enumerate(part.hunks):
        extra = around(view, part.hunks, index, shown) if view is not None else None
        if view is not None and extra is not None:
            out.append(f"{'':>12}[in {extra.block}; unchanged lines of the head file marked =]")
            out += [_head_line(view, n) for n in extra.signature]
            if extra.skipped_before:
                out.append(f"{'':>12}[... {extra.skipped_before} lines]")
            out += [_head_line(view, n) for n in extra.before]
        header = f"@@ -{hunk.old_start},{hunk.old_len} +{hunk.new_start},{hunk.new_len} @@"
        out.append(f"{header} {hunk.section}".rstrip())
        out += [_diff_line(line) for line in hunk.lines]
        shown = hunk.new_start + max(hunk.new_len, 1) - 1
        if view is not None and extra is not None:
            out += [_head_line(view, n) for n in extra.after]
            if extra.skipped_after:
                out.append(f"{'':>12}[... {extra.skipped_after} more lines of {extra.block}]")
            shown = max([shown, *extra.after])
    return "\n".join(out)


def _file_line(file: FileDiff, part: ChunkPart) -> str:
    status: str = file.status
    if file.old_path and file.status == "renamed":
        status = f"renamed from {quote_path(file.old_path)}"
    split = f", part {part.part} of {part.parts}" if part.parts > 1 else ""
    # A path may hold a newline; git's quoting keeps it on its line, so it cannot forge lines.
    return f"FILE {quote_path(file.path)} ({status}{split})"


def _head_line(view: CodeView, number: int) -> str:
    text = view.lines[number - 1] if 0 < number <= len(view.lines) else ""
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS] + " …[line cut]"
    return f"{'':>5} {number:>5} ={text}"


_MARK = {"added": "+", "removed": "-", "context": " "}


def _diff_line(line: DiffLine) -> str:
    old = "" if line.old_no is None else str(line.old_no)
    new = "" if line.new_no is None else str(line.new_no)
    text = line.text
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS] + " …[line cut]"
    return f"{old:>5} {new:>5} {_MARK[line.kind]}{text}"


def _clip(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_TEXT_CHARS:
        return text[:MAX_TEXT_CHARS] + "\n…[cut]"
    return text


def _pr_text(pr: PullRequestText) -> str:
    lines = [f"Title: {_clip(pr.title)}"]
    if pr.branch:
        lines.append(f"Branch: {pr.branch}")
    lines += ["Description:", _clip(pr.body) or "(none)"]
    if pr.commits:
        lines.append("Commit messages:")
        lines += [
            f"- {_clip(message).splitlines()[0]}" for message in pr.commits if message.strip()
        ]
    return "\n".join(lines)


def _ticket_text(ticket: TicketText) -> str:
    lines = [
        f"{ticket.identifier}: {_clip(ticket.title)}",
        f"URL: {ticket.url}",
        _clip(ticket.text),
    ]
    if ticket.criteria:
        lines.append("Acceptance criteria:")
        lines += [f"{i}. {_clip(c)}" for i, c in enumerate(ticket.criteria, 1)]
    return "\n".join(lines)


def _fact(finding: Finding) -> str:
    where = quote_path(finding.where.path)
    where += f":{finding.where.lines}" if finding.where.lines else ""
    return f"- [{finding.severity.value}] {finding.rule} at {where}: {finding.title}"
