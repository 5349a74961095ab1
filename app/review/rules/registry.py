"""The list of rules and the one call that runs them."""

from __future__ import annotations

from collections.abc import Iterator

from app.review.diff import Diff
from app.review.file_context import EMPTY, FileContext
from app.review.findings import Finding
from app.review.rules import (
    authz,
    idempotency,
    long_lines,
    migrations,
    schema_drift,
    secrets,
    size,
    tests_missing,
)
from app.review.rules.base import Change, Rule, RuleContext

ALL_RULES: tuple[Rule, ...] = (
    *secrets.RULES,
    *size.RULES,
    *migrations.RULES,
    *schema_drift.RULES,
    *authz.RULES,
    *idempotency.RULES,
    *tests_missing.RULES,
    *long_lines.RULES,
)


def run_rules(diff: Diff, ctx: RuleContext, files: FileContext = EMPTY) -> list[Finding]:
    """Every enabled rule's findings on `diff`, in rule order, each id listed once.

    `files` holds the changed files' whole texts where they were gathered; without them the
    rules read the hunks alone.
    """
    return [f for _, found in rule_steps(diff, ctx, files) for f in found]


def rule_steps(
    diff: Diff, ctx: RuleContext, files: FileContext = EMPTY
) -> Iterator[tuple[str, list[Finding]]]:
    """`run_rules` one rule at a time: each enabled rule's id and its new findings, as soon as
    it has run. A review that runs out of time keeps what the rules before it found."""
    change = Change.build(diff, ctx.ignore, files)
    seen: set[str] = set()
    for rule in ALL_RULES:
        if rule.id in ctx.disabled:
            continue
        found = []
        for finding in rule.run(change, ctx):
            if finding.id not in seen:
                seen.add(finding.id)
                found.append(finding)
        yield rule.id, found
