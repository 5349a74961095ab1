"""What every rule shares: its context, its view of the change, and how it reports.

A rule is a small object with a stable `id` (what users disable in config), a one-line
`doc`, and a `check(change, ctx)` returning findings. Rules read a `Change`, which wraps the
diff with each file's classification and ignore status computed once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from app.review.diff import Diff, DiffLine, FileDiff
from app.review.file_context import EMPTY, FileContext, FileText
from app.review.files import FileKind, classify, ignored_reason, is_code
from app.review.findings import Category, Finding, FindingType, Severity, Source, Where, fingerprint
from app.review.rules.clip import clip_context, clip_diff, clip_file
from app.review.rules.migration_facts import MigrationFacts
from app.review.rules.routes import Endpoint, find_endpoints

if TYPE_CHECKING:
    from app.review.rules.route_table import RouteIndex


@dataclass(frozen=True)
class RuleContext:
    max_files: int = 15
    ignore: tuple[str, ...] = ()  # extra ignore globs from the repo config
    disabled: frozenset[str] = frozenset()  # rule ids switched off by the repo config


@dataclass(frozen=True)
class ChangedFile:
    diff: FileDiff
    kind: FileKind
    ignored: str | None  # why it is not reviewed, or None
    text: FileText | None = None  # the whole file at head and base, when gathered
    # Lines over clip.LINE_LIMIT characters, whole: `diff` and `text` hold them cut to the
    # limit. Only the secrets scan reads these; long_lines notes them.
    long_lines: tuple[DiffLine, ...] = ()

    @property
    def head_text(self) -> str | None:
        """The file at the head commit, when gathered (possibly `cut`); None otherwise."""
        return self.text.head if self.text is not None else None

    @property
    def base_text(self) -> str | None:
        """The file at the base commit, when gathered; None for an added file or none read."""
        return self.text.base if self.text is not None else None

    @property
    def path(self) -> str:
        return self.diff.path

    @property
    def is_code(self) -> bool:
        return is_code(self.path)

    @property
    def is_source(self) -> bool:
        """Application code: not a test, doc, migration or skipped file."""
        return (
            self.ignored is None
            and self.is_code
            and self.kind.kind in ("route", "model", "other")
            and self.diff.status != "removed"
        )

    @cached_property
    def visible(self) -> tuple[DiffLine, ...]:
        """New-side lines the diff shows (added and context), in order.

        For an added file this is the whole file, which is what lets rules parse it.
        """
        return tuple([ln for h in self.diff.hunks for ln in h.lines if ln.kind != "removed"])

    @cached_property
    def new_text(self) -> str:
        """The whole new file, for an added file; the visible lines otherwise."""
        hunks = self.diff.hunks
        return "\n".join([ln.text for h in hunks for ln in h.lines if ln.kind != "removed"]) + "\n"

    @cached_property
    def added_text(self) -> str:
        """The added lines joined by newlines.

        Rules test this once per file (a substring, a cheap regex) before reading any line, so
        a large diff costs them a few scans of C-level string search rather than a Python loop
        with a dozen regexes per line. Such a test must be implied by every line that could
        match (see `app.review.rules.hints`): then skipping a file on it changes no result.
        """
        return "\n".join([ln.text for h in self.diff.hunks for ln in h.lines if ln.kind == "added"])

    @cached_property
    def removed_text(self) -> str:
        """The removed lines joined by newlines (see `added_text`)."""
        return "\n".join(
            [ln.text for h in self.diff.hunks for ln in h.lines if ln.kind == "removed"]
        )

    @cached_property
    def endpoints(self) -> tuple[Endpoint, ...]:
        """The HTTP endpoints the visible lines declare, found once for every rule."""
        return tuple(find_endpoints(self))

    @cached_property
    def migration(self) -> MigrationFacts | None:
        """What an added migration does, read once for every rule (None for other files)."""
        # Imported here: the migration readers take a ChangedFile themselves.
        from app.review.rules.migration_read import facts_for

        return facts_for(self)


@dataclass(frozen=True)
class Change:
    files: tuple[ChangedFile, ...]
    context: FileContext = EMPTY  # every gathered file, changed or not (a router's module)

    @classmethod
    def build(cls, diff: Diff, ignore: Sequence[str] = (), context: FileContext = EMPTY) -> Change:
        out = []
        context = clip_context(context)  # rules read at most LINE_LIMIT characters of a line
        for f in diff.files:
            reason = ignored_reason(f.path, ignore)
            if reason is None and f.is_binary:
                reason = "binary"
            clipped, long_lines = clip_diff(f)
            text = clip_file(context.get(f.path))
            out.append(ChangedFile(clipped, classify(f.path), reason, text, long_lines))
        return cls(tuple(out), context)

    @cached_property
    def reviewed(self) -> tuple[ChangedFile, ...]:
        return tuple(f for f in self.files if f.ignored is None)

    def of_kind(self, kind: str) -> list[ChangedFile]:
        return [f for f in self.reviewed if f.kind.kind == kind]

    @cached_property
    def routes(self) -> RouteIndex:
        """The routes of every whole file in the change, with their guards, read once."""
        # Imported here: the route table reads ChangedFile itself.
        from app.review.rules.route_table import RouteIndex

        return RouteIndex(self)


@dataclass(frozen=True)
class Report:
    """What a rule says about one place; `Rule.finding` turns it into a Finding."""

    path: str
    key: str  # content, never a line number: the offending text, a column name
    title: str
    evidence: str
    recommendation: str
    lines: str | None = None
    side: str = "RIGHT"
    severity: Severity | None = None  # None: the rule's default
    type: FindingType = "evidence"


@dataclass(frozen=True)
class Rule:
    id: str
    doc: str
    category: Category
    severity: Severity
    check: Callable[[Change, RuleContext], Iterable[Report]] = field(repr=False)

    def run(self, change: Change, ctx: RuleContext) -> list[Finding]:
        return [self.finding(r) for r in self.check(change, ctx)]

    def finding(self, report: Report) -> Finding:
        return Finding(
            id=fingerprint(self.id, report.path, report.key),
            rule=self.id,
            source=Source.RULE,
            type=report.type,
            category=self.category,
            severity=report.severity or self.severity,
            title=report.title[:200],
            where=Where(
                path=report.path,
                lines=report.lines,
                side="LEFT" if report.side == "LEFT" else "RIGHT",
            ),
            evidence=report.evidence,
            recommendation=report.recommendation,
        )


def span(start: int, end: int | None = None) -> str:
    """The `lines` value for one line or a range."""
    return str(start) if end is None or end <= start else f"{start}-{end}"


def quote(text: str, limit: int = 200) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
