"""Which Linear issues a pull request links, and which of them to read (acceptance criteria:
app/review/criteria.py).

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

from app.review.markdown import in_fence

Source = Literal["branch", "title", "body", "commit", "url"]

MAX_ISSUES_PER_PR = 5

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
_MAGIC = re.compile(rf"(?<!\w)({_words(MAGIC_WORDS)})[ \t]*+:?[ \t]*+\[?", re.IGNORECASE)
_UNLINK = re.compile(rf"(?<!\w)({_words(UNLINK_WORDS)})[ \t]*+:?[ \t]*+", re.IGNORECASE)
# Between two identifiers of one list: `Fixes ENG-1, ENG-2 and ENG-3` (on one line).
_LIST_GAP = re.compile(r"[ \t]*(?:,[ \t]*(?:and[ \t]+)?|&[ \t]*|and[ \t]+)?", re.IGNORECASE)
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
    kept = ["" if code else line for line, code in zip(lines, in_fence(lines), strict=True)]
    return _INLINE_CODE.sub(" ", "\n".join(kept))
