"""Migration hazards: rollbacks, drops with code, edits of applied files; and the full list.

Column hazards live in `migration_columns`, lock hazards in `migration_locks`; both read the
ops that `migration_ops` gathers from the framework readers.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.review.findings import Severity
from app.review.rules import migration_columns, migration_locks
from app.review.rules.base import Change, Report, Rule, RuleContext, quote, span
from app.review.rules.migration_edits import cosmetic
from app.review.rules.migration_facts import norm
from app.review.rules.migration_ops import Check, code_note, migrations, ops, where

# ---------------------------------------------------------------- rollback

_ROLLBACK_HOW = {
    "alembic": "Write `downgrade()` so it undoes `upgrade()` (drop what was added, restore what "
    "was dropped); if it truly cannot be undone, `raise NotImplementedError` with the reason.",
    "django": "Pass the reverse (`reverse_code=` / `reverse_sql=`), or "
    "`migrations.RunPython.noop` / `migrations.RunSQL.noop` when undoing needs no work.",
    "rails": "Add `def down` (or wrap the step in `reversible do |dir| … end`); raise "
    "`ActiveRecord::IrreversibleMigration` if it truly cannot be undone.",
    "knex": "Implement `down` so that it undoes `up`.",
    "golang-migrate": "Add the matching `.down.sql` that undoes the `.up.sql`.",
}


def _rollback(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f, facts in migrations(change):
        how = _ROLLBACK_HOW.get(f.kind.framework or "", "Write the rollback step.")
        for issue in facts.rollback:
            if issue.problem == "missing":
                title = f"Migration has no rollback: {issue.what} is missing"
                evidence = f"{f.path} ({f.kind.framework}) has no {issue.what}."
            else:
                title = f"Migration rollback is empty: {issue.what} does nothing"
                evidence = f"{issue.what} in {f.path} has no statements"
            if issue.text:
                evidence += f" `{quote(issue.text)}`"
            yield Report(
                path=f.path,
                key=f"{issue.problem}\0{issue.what}\0{issue.text}",
                title=title,
                evidence=evidence,
                recommendation=how,
                lines=span(issue.line) if issue.line else None,
            )
    paths = {f.path for f in change.files}
    for f in change.reviewed:
        up = f.kind.framework == "golang-migrate" and f.diff.status == "added"
        if up and f.path.endswith(".up.sql") and f.path[:-7] + ".down.sql" not in paths:
            yield Report(
                path=f.path,
                key="missing-down-file",
                title="Migration has no rollback: the .down.sql file is missing",
                evidence=f"{f.path} is added without "
                f"{f.path.rsplit('/', 1)[-1][: -len('.up.sql')]}.down.sql.",
                recommendation=_ROLLBACK_HOW["golang-migrate"],
            )


# ---------------------------------------------------------------- change shape


def _expand_contract(change: Change, ctx: RuleContext) -> Iterator[Report]:
    note = code_note(change)
    if not note:
        return
    for f, op in ops(change, "drop_column", "drop_table"):
        yield Report(
            path=f.path,
            key=f"{op.kind}\0{norm(op.table)}.{norm(op.column)}",
            title=f"Migration drops {where(op)} in the same change as code",
            evidence=f"`{quote(op.text)}` drops what the code deployed before this change may "
            f"still read: during the deploy, old code runs against the new schema.{note}",
            recommendation="Expand-contract: first ship code that no longer uses it (Rails: "
            "`ignored_columns`), then drop it in a later change.",
            lines=span(op.line),
        )


def _edited(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f in change.reviewed:
        if f.kind.kind != "migration" or f.diff.status not in ("modified", "renamed"):
            continue
        if not f.diff.hunks:
            continue
        if cosmetic(f):
            continue  # formatting, imports, hints, comments: the database runs the same
        first = next(f.diff.added_lines(), None) or next(f.diff.removed_lines(), None)
        if first is None:
            continue
        left = first.kind == "removed"
        number = first.old_no if left else first.new_no
        yield Report(
            path=f.path,
            key="edited",
            title="Existing migration edited",
            evidence=f"{f.path} already exists on the base branch and is modified here "
            f"(+{f.diff.added}/-{f.diff.removed}); databases that already ran it will not run it "
            "again.",
            recommendation="Leave applied migrations as they are and add a new migration with "
            "the change. If this one has never run anywhere, say so in the PR.",
            lines=span(number) if number else None,
            side="LEFT" if left else "RIGHT",
        )


def _rule(id: str, doc: str, severity: Severity, check: Check) -> Rule:
    return Rule(id=id, doc=doc, category="migrations", severity=severity, check=check)


RULES = (
    _rule(
        "migration-missing-rollback",
        "A new migration whose framework supports rollback has none, or an empty one.",
        Severity.MAJOR,
        _rollback,
    ),
    *migration_columns.RULES,
    *migration_locks.RULES,
    _rule(
        "migration-expand-contract",
        "A column or table dropped in the same change as code that may still use it.",
        Severity.MAJOR,
        _expand_contract,
    ),
    _rule(
        "applied-migration-edited",
        "An existing (already applied) migration file is modified.",
        Severity.MAJOR,
        _edited,
    ),
)
