"""Source changed and no test did."""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.review.findings import Severity
from app.review.rules.base import Change, ChangedFile, Report, Rule, RuleContext

_TRIVIAL = re.compile(r"^\s*(#.*|//.*|/?\*.*|import .*|from \S+ import .*|\"\"\"|'''|)$")


def _substantive(f: ChangedFile) -> bool:
    # Schema declarations (.prisma, .sql) are covered by migrations, not unit tests.
    if f.path.endswith((".prisma", ".sql")):
        return False
    return any(not _TRIVIAL.match(ln.text) for ln in f.diff.added_lines())


def _check(change: Change, ctx: RuleContext) -> Iterator[Report]:
    if any(f.kind.kind == "test" for f in change.files):
        return
    source = sorted(
        (f for f in change.reviewed if f.is_source and _substantive(f)), key=lambda f: f.path
    )
    if not source:
        return
    names = ", ".join(f.path for f in source[:5]) + (", …" if len(source) > 5 else "")
    yield Report(
        path=source[0].path,
        key="no-test-change",
        title="Source changes without a test change",
        evidence=f"{len(source)} source file(s) change ({names}) and no test file does.",
        recommendation="Add or update a test that fails without this change, or say in the PR "
        "why none is needed (refactor covered by existing tests, config only).",
    )


TESTS_MISSING = Rule(
    id="tests-missing",
    doc="Application source changes and no test file changes.",
    category="testing",
    severity=Severity.MINOR,
    check=_check,
)

RULES = (TESTS_MISSING,)
