"""Labels of the real-commit bench and how findings are scored against them.

The labels (`bench/real_commits.toml`) name public commits and, for each, the problems a senior
reviewer would raise in our five families, with the evidence for each label. Nothing here reads
git: `bench/real_commits.py` regenerates the diffs and runs the rules; this module only loads
labels and matches findings to them, so the scoring has unit tests without mirrors.

Matching. A finding of family F matches a label of family F when both name the same path and
side and the finding's lines lie within `LINE_TOLERANCE` lines of the label's lines, or both lie
in the same hunk of that file when that hunk spans fewer than `HUNK_SPAN` lines (a whole new
file is one hunk, and "anywhere in it" is too loose). A label or finding without lines matches
on the path alone; a `size` label matches any `size` finding (the rule anchors on the first
reviewed path, which says nothing). A label may name other places (`also`) where the same
problem can be pinned — the handler and the provider call it reaches in a service — and a
finding at any of them matches it. Each label is matched at most once: a finding whose expected
rule is listed on the label is matched first, then any finding of the family. What stays
unmatched is a false positive (a finding) or a false negative (a label).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.review.diff import Diff
from app.review.findings import Finding

LABELS = Path(__file__).resolve().parent / "real_commits.toml"
LINE_TOLERANCE = 5
# The same-hunk allowance covers hunks of at most this many lines: a whole new file or a
# rewritten module is one hunk, and "anywhere in it" would let a finding about another endpoint
# pass for the labelled one.
HUNK_SPAN = 30
FAMILIES = ("size", "migration", "secret", "authorization", "idempotency")

# Rule ids per family; new rules of a family are counted by their prefix.
_EXACT = {
    "change-too-large": "size",
    "hardcoded-secret": "secret",
    "applied-migration-edited": "migration",
}
_PREFIXES = (
    ("migration-", "migration"),
    ("authz-", "authorization"),
    ("idempotency-", "idempotency"),
)
# Rules outside the five families: run, listed, never scored.
UNSCORED = frozenset({"tests-missing", "model-without-migration", "migration-without-model"})


def family_of(rule_id: str) -> str | None:
    """The family a rule's findings are scored in, or None when the bench does not score it."""
    if rule_id in UNSCORED:
        return None
    if rule_id in _EXACT:
        return _EXACT[rule_id]
    for prefix, family in _PREFIXES:
        if rule_id.startswith(prefix):
            return family
    return None


@dataclass(frozen=True)
class Expected:
    family: str
    rules: tuple[str, ...]  # our rule ids that fit, when one does ("" family-level otherwise)
    path: str | None  # None: anywhere in the change (size)
    lines: tuple[int, int] | None  # the label's line range on `side`
    side: str
    evidence: str
    # Other places the same problem may be pinned (path, lines), e.g. the handler and the
    # provider call it reaches in a service: a finding at any of them matches the label.
    also: tuple[tuple[str, tuple[int, int] | None], ...] = ()


@dataclass(frozen=True)
class Commit:
    name: str
    repo: str
    sha: str
    lang: str
    framework: str
    clean: bool
    summary: str
    expect: tuple[Expected, ...]
    max_files: int = 15


def _lines(value: object) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, str) and value:
        start, _, end = value.partition("-")
        return (int(start), int(end or start))
    raise ValueError(f"line must be an int or 'a-b', got {value!r}")


def _place(text: str) -> tuple[str, tuple[int, int] | None]:
    """`path` or `path:line` or `path:a-b`, for a label's alternative places."""
    path, sep, lines = text.rpartition(":")
    if sep and lines and lines.replace("-", "").isdigit():
        return path, _lines(lines)
    return text, None


def parse_labels(text: str) -> list[Commit]:
    """The commits of a labels file; raises ValueError on a label that cannot be scored."""
    data = tomllib.loads(text)
    out = []
    names: set[str] = set()
    for raw in data.get("commit", []):
        name = str(raw["name"])
        if name in names:
            raise ValueError(f"{name}: duplicate commit name")
        names.add(name)
        expect = []
        for e in raw.get("expect", []):
            family = str(e["family"])
            if family not in FAMILIES:
                raise ValueError(f"{name}: unknown family {family!r}")
            if not str(e.get("evidence", "")).strip():
                raise ValueError(f"{name}: a {family} label without evidence")
            if family != "size" and not e.get("path"):
                raise ValueError(f"{name}: a {family} label needs a path")
            expect.append(
                Expected(
                    family=family,
                    rules=tuple(e.get("rules", ())),
                    path=e.get("path") or None,
                    lines=_lines(e.get("line")),
                    side=str(e.get("side", "RIGHT")),
                    evidence=str(e["evidence"]),
                    also=tuple(_place(str(a)) for a in e.get("also", ())),
                )
            )
        clean = bool(raw["clean"])
        if clean and expect:
            raise ValueError(f"{name}: a clean commit with expected findings")
        if not clean and not expect:
            raise ValueError(f"{name}: not clean but nothing expected")
        out.append(
            Commit(
                name=name,
                repo=str(raw["repo"]),
                sha=str(raw["sha"]),
                lang=str(raw["lang"]),
                framework=str(raw["framework"]),
                clean=clean,
                summary=str(raw.get("summary", "")),
                expect=tuple(expect),
                max_files=int(raw.get("max_files", 15)),
            )
        )
    return out


def load_labels(path: Path = LABELS) -> list[Commit]:
    return parse_labels(path.read_text())


@dataclass(frozen=True)
class Miss:
    """One false positive or false negative, with what a rule author needs to find it."""

    kind: str  # "FP" or "FN"
    family: str
    commit: str
    repo: str
    sha: str
    rule: str  # the finding's rule (FP) or the label's expected rules (FN)
    where: str  # path:line (side)
    note: str  # the finding's title, or the label's evidence


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[Miss] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def _finding_lines(f: Finding) -> tuple[int, int] | None:
    start, end = f.where.start, f.where.end
    if start is None:
        return None
    return (start, end if end is not None else start)


def _hunk_index(diff: Diff, path: str, side: str, line: int) -> int | None:
    fd = diff.file(path)
    if fd is None:
        return None
    s = "LEFT" if side == "LEFT" else "RIGHT"
    for i, hunk in enumerate(fd.hunks):
        if s == "RIGHT":
            numbers = [ln.new_no for ln in hunk.lines if ln.new_no is not None]
        else:
            numbers = [ln.old_no for ln in hunk.lines if ln.old_no is not None]
        if numbers and min(numbers) <= line <= max(numbers):
            return i if max(numbers) - min(numbers) < HUNK_SPAN else None
    return None


def matches(label: Expected, finding: Finding, diff: Diff) -> bool:
    """Whether `finding` (already known to be of the label's family) is the labelled problem."""
    if label.family == "size":
        return True
    if finding.where.side != label.side:
        return False
    places = [(label.path, label.lines), *label.also]
    return any(
        finding.where.path == path and _near(path, lines, finding, label.side, diff)
        for path, lines in places
    )


def _near(
    path: str | None, lines: tuple[int, int] | None, finding: Finding, side: str, diff: Diff
) -> bool:
    got = _finding_lines(finding)
    if got is None or lines is None or path is None:
        return True
    (ls, le), (fs, fe) = lines, got
    if fs <= le + LINE_TOLERANCE and ls <= fe + LINE_TOLERANCE:
        return True
    hunk = _hunk_index(diff, path, side, ls)
    return hunk is not None and hunk == _hunk_index(diff, path, side, fs)


def _distance(label: Expected, finding: Finding) -> int:
    got = _finding_lines(finding)
    places = [(label.path, label.lines), *label.also]
    spans = [lines for path, lines in places if path == finding.where.path]
    if got is None or not spans or any(s is None for s in spans):
        return 0
    fs, fe = got
    return min(max(0, fs - s[1], s[0] - fe) for s in spans if s is not None)


def _where(path: str | None, lines: tuple[int, int] | None, side: str) -> str:
    where = path or "(change)"
    if lines is not None:
        where += f":{lines[0]}" if lines[0] == lines[1] else f":{lines[0]}-{lines[1]}"
    return where + (" (old side)" if side == "LEFT" else "")


def score_commit(
    commit: Commit,
    findings: Sequence[Finding],
    diff: Diff,
    tallies: dict[str, Tally],
    families: Iterable[str] = FAMILIES,
) -> None:
    """Add one commit's true/false positives and false negatives to `tallies` (per family)."""
    for family in families:
        tally = tallies.setdefault(family, Tally())
        labels = [e for e in commit.expect if e.family == family]
        found = [f for f in findings if family_of(f.rule) == family]
        open_labels = list(range(len(labels)))
        # First the findings whose rule the label names, then any rule of the family.
        for strict in (True, False):
            rest = []
            for f in found:
                eligible = [
                    i
                    for i in open_labels
                    if (not strict or f.rule in labels[i].rules) and matches(labels[i], f, diff)
                ]
                # The nearest label first: two hazards a few lines apart keep their own finding.
                hit = min(eligible, key=lambda i: _distance(labels[i], f), default=None)
                if hit is None:
                    rest.append(f)
                else:
                    open_labels.remove(hit)
                    tally.tp += 1
            found = rest
        for f in found:
            tally.fp += 1
            tally.misses.append(
                Miss(
                    "FP",
                    family,
                    commit.name,
                    commit.repo,
                    commit.sha,
                    f.rule,
                    _where(f.where.path, _finding_lines(f), f.where.side),
                    f"[{f.severity.value}/{f.type}] {f.title}",
                )
            )
        for i in open_labels:
            label = labels[i]
            tally.fn += 1
            tally.misses.append(
                Miss(
                    "FN",
                    family,
                    commit.name,
                    commit.repo,
                    commit.sha,
                    ",".join(label.rules) or "-",
                    _where(label.path, label.lines, label.side),
                    label.evidence,
                )
            )


def overall(tallies: dict[str, Tally]) -> Tally:
    return Tally(
        tp=sum(t.tp for t in tallies.values()),
        fp=sum(t.fp for t in tallies.values()),
        fn=sum(t.fn for t in tallies.values()),
    )
