"""Which Linear issues a pull request links, which of them to read, and their acceptance criteria.

Pure: the job gives the branch, title, body and commit messages; this module says which issue
identifiers they carry, in the order worth reading. Dropping the usual non-issue prefixes
(`SHA-256`, `UTF-8`) happens here, before anything asks Linear, so a pull request that only
mentions a hash algorithm costs no Linear call. The workspace's real team keys, once the adapter
has them, decide the rest (`accept_refs`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

Source = Literal["branch", "title", "body", "commit", "url"]

MAX_ISSUES_PER_PR = 5
MAX_CRITERIA = 20
MAX_CRITERION_CHARS = 500

# Linear's magic words, from https://linear.app/docs/github ("Magic words"): closing, non-closing
# and relation words all link the pull request, so all three make a reference explicit.
CLOSING_WORDS = (
    "close", "closes", "closed", "closing", "fix", "fixes", "fixed", "fixing",
    "resolve", "resolves", "resolved", "resolving", "complete", "completes", "completed",
    "completing", "implement", "implements", "implemented", "implementing", "linear issue",
)  # fmt: skip
NON_CLOSING_WORDS = ("ref", "refs", "references", "part of", "contributes to", "toward", "towards")
RELATION_WORDS = ("relates to", "related to")
MAGIC_WORDS = CLOSING_WORDS + NON_CLOSING_WORDS + RELATION_WORDS
# Same page: `skip ENG-123` / `ignore ENG-123` in the description unlinks the issue, even when
# the branch names it; we do not read it either.
UNLINK_WORDS = ("skip", "ignore")

# Prefixes that look like an identifier but almost never are one. A reference with a URL or a
# magic word is kept anyway: `Fixes CVE-12` is explicit, even in a workspace with a CVE team.
FALSE_FRIENDS = frozenset(
    {
        "AES", "ANSI", "AVX", "BASE", "BCP", "CP", "CRC", "CVE", "CWE", "ECMA", "ES", "FIPS",
        "GH", "GHSA", "GPT", "HTTP", "IEC", "IEEE", "ISO", "JSR", "MD", "OWASP", "P", "PEP",
        "PR", "RFC", "RSA", "SHA", "SOC", "SSL", "TLS", "UCS", "UTF", "WIN", "X",
    }
)  # fmt: skip

# Linear's schema documents a team key only as "used as a prefix in issue identifiers"; other
# integrations report its app keeps keys to 5 characters. 1-7 letters and digits, starting with a
# letter, leaves room; the workspace's real keys decide. Seven digits: ten million issues a team.
_KEY = r"[A-Za-z][A-Za-z0-9]{0,6}"
_NUMBER = r"[1-9][0-9]{0,6}"
# Not inside a longer token: not `XENG-1`, `ENG-12abc`, `ENG-1.2` (a version), `CVE-2024-1234`.
_END = r"(?![\w]|\.\w|-\d)"
_TEXT_ID = rf"(?<![\w-])[A-Z][A-Z0-9]{{0,6}}-{_NUMBER}{_END}"
# A branch separates words with `-`, `_` and `/`: `jdoe/eng-123-add-refunds`, `ENG-123_refunds`.
_BRANCH_ID = re.compile(rf"(?<![A-Za-z0-9])({_KEY}-{_NUMBER})(?![A-Za-z0-9]|\.\w|-\d)")
_URL = r"https?://[^\s<>\"'`()\[\]]+"
_ITEM = re.compile(rf"(?P<url>{_URL})|(?P<id>{_TEXT_ID})")
_LINEAR_URL = re.compile(rf"https?://linear\.app/[\w.-]+/issue/({_KEY}-{_NUMBER})(?:[/?#]\S*)?")


def _words(words: Sequence[str]) -> str:
    longest_first = sorted(words, key=len, reverse=True)
    return "|".join(r"[ \t]+".join(map(re.escape, w.split())) for w in longest_first)


# `Fixes [ENG-1](https://linear.app/...)`: the link's text may follow the word.
_MAGIC = re.compile(rf"(?<!\w)({_words(MAGIC_WORDS)})[ \t]*:?[ \t]*\[?", re.IGNORECASE)
_UNLINK = re.compile(rf"(?<!\w)({_words(UNLINK_WORDS)})[ \t]*:?[ \t]*", re.IGNORECASE)
# Between two identifiers of one list: `Fixes ENG-1, ENG-2 and ENG-3` (on one line).
_LIST_GAP = re.compile(r"[ \t]*(?:,[ \t]*(?:and[ \t]+)?|&[ \t]*|and[ \t]+)?", re.IGNORECASE)
_FENCE = re.compile(r"^[ \t]*(?:>[ \t]*)*(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_TRAILING_PUNCTUATION = ".,;:!?*_~"


@dataclass(frozen=True, slots=True)
class IssueRef:
    identifier: str  # "ENG-123", the team key upper-case
    team: str
    number: int
    sources: tuple[Source, ...]  # where it was seen, first sighting first
    magic: str | None = None  # the magic word before it, lower-case: "fixes", "part of"

    @property
    def explicit(self) -> bool:
        """Linked on purpose: by a magic word, a Linear URL, the branch name or the title
        (Linear itself links a pull request by the last two)."""
        return self.magic is not None or bool({"url", "branch", "title"} & set(self.sources))


@dataclass(slots=True)
class _Seen:
    sources: list[Source] = field(default_factory=list)
    magic: str | None = None


def find_issue_refs(
    *, branch: str, title: str, body: str, commits: Sequence[str]
) -> list[IssueRef]:
    """Every Linear identifier the pull request links or mentions, explicit ones first."""
    seen: dict[str, _Seen] = {}

    def note(identifier: str, source: Source, magic: str | None) -> None:
        entry = seen.setdefault(identifier.upper(), _Seen())
        if source not in entry.sources:
            entry.sources.append(source)
        entry.magic = entry.magic or magic

    for match in _BRANCH_ID.finditer(branch):
        note(match.group(1), "branch", None)
    unlinked: set[str] = set()
    texts: list[tuple[Source, str]] = [("title", title), ("body", body)]
    texts += [("commit", message) for message in commits]
    for source, text in texts:
        for identifier, where, magic, unlink in _text_refs(_without_code(text), source):
            if unlink and source == "body":
                unlinked.add(identifier)
            elif not unlink:
                note(identifier, where, magic)
    refs = [
        _ref(identifier, tuple(entry.sources), entry.magic)
        for identifier, entry in seen.items()
        if identifier not in unlinked
    ]
    return sorted(refs, key=lambda ref: not ref.explicit)  # stable: appearance order within


def candidate_refs(refs: Sequence[IssueRef]) -> list[IssueRef]:
    """The references worth asking Linear about: bare mentions of a false friend dropped."""
    return [ref for ref in refs if ref.team not in FALSE_FRIENDS or _deliberate(ref)]


def accept_refs(
    refs: Sequence[IssueRef], team_keys: Collection[str], *, limit: int = MAX_ISSUES_PER_PR
) -> tuple[list[IssueRef], list[str]]:
    """The references to the workspace's teams, at most `limit`, and notes for the summary."""
    if limit < 0:
        raise ValueError(f"limit must not be negative, not {limit}")
    keys = {key.upper() for key in team_keys}
    known = [ref for ref in refs if ref.team in keys]
    notes = [
        f"`{ref.identifier}` is linked but this Linear workspace has no team `{ref.team}`"
        for ref in refs
        if ref.team not in keys and _deliberate(ref)
    ]
    accepted = known[:limit]
    left = len(known) - len(accepted)
    if left:
        issues = "issue" if left == 1 else "issues"
        notes.append(f"{left} more linked {issues} not read (at most {limit} per pull request)")
    return accepted, notes


def _deliberate(ref: IssueRef) -> bool:
    return ref.magic is not None or "url" in ref.sources


def _ref(identifier: str, sources: tuple[Source, ...], magic: str | None) -> IssueRef:
    team, number = identifier.rsplit("-", 1)
    return IssueRef(identifier, team, int(number), sources, magic)


def _text_refs(text: str, source: Source) -> Iterator[tuple[str, Source, str | None, bool]]:
    """(identifier, where, magic word, unlinked) for each identifier or Linear URL in the text."""
    magic_at = {m.end(): " ".join(m.group(1).lower().split()) for m in _MAGIC.finditer(text)}
    unlink_at = {m.end() for m in _UNLINK.finditer(text)}
    previous_end, previous_magic, previous_unlink = -1, None, False
    for item in _ITEM.finditer(text):
        start = item.start()
        in_list = previous_end >= 0 and _LIST_GAP.fullmatch(text, previous_end, start) is not None
        magic = magic_at.get(start) or (previous_magic if in_list else None)
        unlink = start in unlink_at or (previous_unlink and in_list)
        identifier, where = item.group("id"), source
        if identifier is None:
            url = _LINEAR_URL.fullmatch(item.group("url").rstrip(_TRAILING_PUNCTUATION))
            if url is None:  # another host, or not an issue page: no link, and ids in it skipped
                previous_end, previous_magic, previous_unlink = item.end(), None, False
                continue
            identifier, where = url.group(1).upper(), "url"
        previous_end, previous_magic, previous_unlink = item.end(), magic, unlink
        yield identifier, where, magic, unlink


def _without_code(text: str) -> str:
    """The text with HTML comments (PR templates' hidden hints), fenced code blocks and inline
    code spans blanked: a pasted stack trace or `SHA-256` there is not a link."""
    lines = _HTML_COMMENT.sub(" ", text).splitlines()
    kept = ["" if code else line for line, code in zip(lines, _in_fence(lines), strict=True)]
    return _INLINE_CODE.sub(" ", "\n".join(kept))


def _in_fence(lines: Sequence[str]) -> list[bool]:
    """For each line, whether it belongs to a fenced code block (the fences included)."""
    marks: list[bool] = []
    fence: str | None = None
    for line in lines:
        marker = _FENCE.match(line)
        if fence is None:
            fence = marker.group(1) if marker else None
            marks.append(fence is not None)
            continue
        marks.append(True)
        run = marker.group(1) if marker else ""
        if run[:1] == fence[:1] and len(run) >= len(fence) and not _FENCE.sub("", line).strip():
            fence = None  # CommonMark: same character, at least as long, nothing after it
    return marks


# Acceptance criteria in a Linear issue's Markdown description.

_CRITERIA_TITLES = frozenset({"acceptance criteria", "ac", "definition of done"})
_PSEUDO_LEVEL = 7  # a bold line or a `Label:` line: below every Markdown heading
_MAX_DEPTH = 8  # nested lists deeper than this are folded into the eighth level
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_BOLD = re.compile(r"^[ \t]*(\*\*|__)(.+?)\1[ \t]*:?[ \t]*$")
_LABEL = re.compile(r"^[ \t]*([^\s#>*+\-|][^:]{0,60}):[ \t]*$")
_LIST_ITEM = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$")
_CHECKBOX = re.compile(r"^\[[ xX]\](?:[ \t]+|$)")
_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")


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
    lines = ["" if code else line for line, code in zip(lines, _in_fence(lines), strict=True)]
    found = [_fold(item) for section in _sections(lines) for item in _list(section)]
    if not any(found):
        found = [_fold(item) for item in _outermost_tasks(_list(lines))]
    criteria = [_clip(text) for text in found if text]
    return tuple(criteria[:MAX_CRITERIA])


def _heading(line: str) -> tuple[int, str] | None:
    """(level, title) of a Markdown heading or a bold-only line; None for anything else."""
    atx = _ATX.match(line)
    if atx:
        return len(atx.group(1)), atx.group(2) or ""
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
