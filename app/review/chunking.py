"""Which parts of a pull request's diff go into which model call, within the token budgets.

`plan_chunks` orders the changed files by `review_priority` (migrations, then routes and auth,
models, other code, config, tests, docs), packs them into chunks of at most `call_tokens`
(first-fit over the chunks opened so far, files taken in priority order), splits a file too big
for one call at hunk boundaries, and stops once the review's `review_tokens` are spent. Whatever
the model will not see is named in `ChunkPlan.not_reviewed` with the reason: nothing is dropped
silently. Calling the model, concurrently, is the orchestrator's job; this module only plans.

Costs are measured on the caller's own `render` (the text of one part as the prompt shows it),
so the plan and the prompt cannot disagree about what a part costs. See docs/large-prs.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from app.review.diff_model import Diff, FileDiff, Hunk
from app.review.files import classify, is_code

_NO_SKIP: Mapping[str, str] = MappingProxyType({})  # a read-only default, shared safely

# Path words that mark the authentication / authorisation surface, in singular and plural.
_AUTH_WORDS = frozenset(
    {"auth", "authn", "authz", "oauth", "oauth2", "rbac", "security", "policy", "policies"}
    | {"authenticate", "authentication", "authenticator", "authorize", "authorization"}
    | {"authorizer", "authorise", "authorisation"}
    | {
        w + s
        for w in ("permission", "guard", "middleware", "acl", "login", "session", "token")
        for s in ("", "s")
    }
)
# CamelCase names hide their words from a split on punctuation: AuthController, JWTToken.
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def estimate_tokens(text: str) -> int:
    """A conservative token count without a tokenizer: one token per 3 UTF-8 bytes, rounded up.

    English prose averages about 4 characters per token; code and diffs tokenize denser
    (punctuation, short identifiers, indentation, line-number gutters), so 3 over-counts rather
    than under-counts. Bytes, not characters: Chinese, Japanese or Korean text runs at one or
    two characters a token, and its three bytes a character keep the estimate on the safe side.
    Over-counting only makes a call carry a little less than it could; under-counting would
    overflow the model's context or the review's budget.
    """
    return _tokens(_size(text))


def _size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _tokens(chars: int) -> int:
    return -(-chars // 3)


def _auth_path(path: str) -> bool:
    words = _NON_WORD.split(_CAMEL.sub("_", path).lower())
    return any(word in _AUTH_WORDS for word in words)


def review_priority(file: FileDiff) -> int:
    """Review order, lower first: 0 migrations, 1 routes and auth, 2 models and schemas,
    3 other code, 4 config and everything else, 5 tests, 6 docs."""
    kind = classify(file.path).kind
    if kind == "migration":
        return 0
    if kind == "test":
        return 5
    if kind == "docs":
        return 6
    if kind == "route" or _auth_path(file.path):
        return 1
    if kind == "model":
        return 2
    return 3 if is_code(file.path) else 4


@dataclass(frozen=True, slots=True)
class ChunkPart:
    file: FileDiff
    hunks: tuple[Hunk, ...]  # all hunks of the file, or a contiguous slice when the file is split
    part: int = 1  # 1-based part number when split
    parts: int = 1  # total parts of this file


@dataclass(frozen=True, slots=True)
class Chunk:
    parts: tuple[ChunkPart, ...]
    tokens: int  # estimated tokens of the rendered parts

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.file.path for p in self.parts))


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    chunks: tuple[Chunk, ...]
    not_reviewed: dict[str, str]  # path -> reason, for files (or parts of files) not sent
    tokens: int  # estimated tokens of all chunks (diff text only)
    # Files with a hunk that adds lines and that no call can hold: no budget would have let the
    # model see what it adds (a hunk that only removes lines is not counted).
    too_big: tuple[str, ...] = ()


Render = Callable[[ChunkPart], str]


def _where(hunks: Sequence[Hunk]) -> str:
    """'new lines 120-2400' for hunks that have new-side lines, else their old-side span."""
    new = [h for h in hunks if h.new_len]
    if new:
        side, first, last = "new", new[0].new_start, new[-1].new_start + new[-1].new_len - 1
    else:
        side, first, last = "old", hunks[0].old_start, hunks[-1].old_start + hunks[-1].old_len - 1
    return f"{side} line {first}" if first >= last else f"{side} lines {first}-{last}"


@dataclass(slots=True)
class _Split:
    """A file cut for sending: parts with their tokens, and hunks no call can hold."""

    parts: list[ChunkPart] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # index of each part's first hunk
    too_big: list[tuple[int, str]] = field(default_factory=list)  # (hunk index, reason)


def _too_big(what: str, tokens: int, call_tokens: int) -> str:
    return f"{what} is larger than one model call (~{tokens:,} tokens > {call_tokens:,})"


def _cut(file: FileDiff, render: Render, call_tokens: int, parts: int) -> _Split:
    """Greedy cut into contiguous slices, each rendered as part i of `parts` within budget.

    Sizes are predicted as the empty part's length plus each hunk's own length (one render
    per hunk, not one per candidate slice), then every slice is rendered for real and
    shortened if the prediction was optimistic.
    """
    hunks = file.hunks
    base = _size(render(ChunkPart(file, (), 1, parts)))
    sizes = [_size(render(ChunkPart(file, (h,), 1, parts))) - base for h in hunks]
    out = _Split()
    i = 0
    while i < len(hunks):
        number = len(out.parts) + 1
        end, chars = i, base
        while end < len(hunks) and _tokens(chars + sizes[end]) <= call_tokens:
            chars += sizes[end]
            end += 1
        end = max(end, i + 1)
        while True:
            part = ChunkPart(file, hunks[i:end], number, parts)
            tokens = estimate_tokens(render(part))
            if tokens <= call_tokens or end == i + 1:
                break
            end -= 1
        if tokens > call_tokens:
            out.too_big.append(
                (i, _too_big(f"hunk at {_where(hunks[i:end])}", tokens, call_tokens))
            )
        else:
            out.parts.append(part)
            out.tokens.append(tokens)
            out.starts.append(i)
        i = end
    return out


def _split(file: FileDiff, render: Render, call_tokens: int) -> _Split:
    whole = ChunkPart(file, file.hunks)
    tokens = estimate_tokens(render(whole))
    if tokens <= call_tokens:
        return _Split([whole], [tokens], [0])
    # The part count is part of what is rendered; cut again until the count we rendered with
    # is the count we got. With a header that does not shrink as the numbers grow, the count
    # only climbs, so this settles within a few rounds.
    guess = 2
    for _ in range(len(file.hunks) + 2):
        cut = _cut(file, render, call_tokens, guess)
        if len(cut.parts) in (guess, 0):
            return cut
        guess = len(cut.parts)
    # Did not settle (a renderer whose length jumps around with the part count): renumber,
    # re-measure, and name any part that no longer fits instead of sending it.
    out = _Split(too_big=cut.too_big)
    count = len(cut.parts)
    for n, (part, start) in enumerate(zip(cut.parts, cut.starts, strict=True), 1):
        part = ChunkPart(file, part.hunks, n, count)
        tokens = estimate_tokens(render(part))
        if tokens > call_tokens:
            out.too_big.append((start, _too_big(f"part {n} of {count}", tokens, call_tokens)))
        else:
            out.parts.append(part)
            out.tokens.append(tokens)
            out.starts.append(start)
    out.too_big.sort()
    return out


class _Packer:
    """First-fit: a part goes into the first chunk opened so far that still has room for it,
    else into a new chunk. Parts arrive in priority order and are only appended, so each chunk
    keeps that order, and the first chunk always holds the most important file."""

    def __init__(self, call_tokens: int) -> None:
        self._room = call_tokens
        self._parts: list[list[ChunkPart]] = []
        self._tokens: list[int] = []

    def add(self, part: ChunkPart, tokens: int) -> None:
        for i, used in enumerate(self._tokens):
            if used + tokens <= self._room:
                self._parts[i].append(part)
                self._tokens[i] += tokens
                return
        self._parts.append([part])
        self._tokens.append(tokens)

    def chunks(self) -> tuple[Chunk, ...]:
        return tuple(Chunk(tuple(p), t) for p, t in zip(self._parts, self._tokens, strict=True))


@dataclass(slots=True)
class _Missed:
    """What of one file the model will not see; the budget figure is known only at the end."""

    sent: bool = False
    reasons: list[str] = field(default_factory=list)
    over_budget: tuple[Hunk, ...] = ()  # hunks left out once the review's budget was spent
    adds_unseen: bool = False  # a hunk too big for any call adds lines

    def reason(self, budget: str) -> str:
        reasons = list(self.reasons)
        if self.over_budget and self.sent:
            reasons.append(f"{_where(self.over_budget)} over {budget}")
        elif self.over_budget:
            reasons.append(f"over {budget}")
        text = "; ".join(reasons)
        return f"partly reviewed: {text}" if self.sent else text


def plan_chunks(
    diff: Diff,
    *,
    render: Render,
    call_tokens: int,
    review_tokens: int,
    skip: Mapping[str, str] = _NO_SKIP,
    priority: Callable[[FileDiff], int] = review_priority,
) -> ChunkPlan:
    """Plan the model calls for `diff`: chunks of at most `call_tokens` diff tokens each, at
    most `review_tokens` in all, and every file with hunks either sent or in `not_reviewed`.

    `render` is the prompt's text for one part; it is also called with one hunk and with no
    hunk to predict sizes when a file must be split. Files in `skip` (the caller already
    lists them) and files without hunks (binary, mode-only, no patch) are neither sent nor
    listed. Once a part would take the review over `review_tokens`, it and every later file
    are listed as over budget: files come in priority order, so tests and docs go first.
    `priority` is `review_priority` unless a caller planning the same diff repeatedly passes
    a memoised one.
    """
    if call_tokens <= 0:
        raise ValueError(f"call_tokens must be positive, got {call_tokens}")
    if review_tokens <= 0:
        raise ValueError(f"review_tokens must be positive, got {review_tokens}")
    files = sorted(
        (f for f in diff.files if f.hunks and f.path not in skip),
        key=lambda f: (priority(f), f.path),
    )
    packer = _Packer(call_tokens)
    missed: dict[str, _Missed] = {}
    total = 0
    spent = False
    for file in files:
        if spent:
            missed[file.path] = _Missed(over_budget=file.hunks)
            continue
        cut = _split(file, render, call_tokens)
        miss = _Missed()
        stop_at = len(file.hunks)
        for part, tokens, start in zip(cut.parts, cut.tokens, cut.starts, strict=True):
            if total + tokens > review_tokens:
                spent, stop_at = True, start
                miss.over_budget = file.hunks[start:]
                break
            packer.add(part, tokens)
            total += tokens
            miss.sent = True
        miss.reasons = [reason for index, reason in cut.too_big if index < stop_at]
        miss.adds_unseen = any(file.hunks[i].new_len for i, _ in cut.too_big if i < stop_at)
        if miss.reasons or miss.over_budget:
            missed[file.path] = miss
    # Said so it cannot read as "under budget": what the budget is, what went to the files
    # that were sent, and how many files it left out.
    left_out = sum(1 for m in missed.values() if m.over_budget)
    budget = (
        f"the review's token budget ({review_tokens:,} tokens: ~{total:,} planned for the "
        f"parts sent, {left_out:,} file(s) left out in whole or in part)"
    )
    return ChunkPlan(
        chunks=packer.chunks(),
        not_reviewed={path: m.reason(budget) for path, m in missed.items()},
        tokens=total,
        too_big=tuple(path for path, m in missed.items() if m.adds_unseen),
    )
