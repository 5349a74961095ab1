"""Migration hazards: rollbacks, locks, rewrites, expand-contract, edits of applied files.

PostgreSQL-only hazards (index without CONCURRENTLY, foreign key without NOT VALID) are
evidence when the change shows PostgreSQL and a question otherwise: on MySQL or SQLite the
advice would be wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from app.review.findings import Severity
from app.review.rules.base import Change, ChangedFile, Report, Rule, RuleContext, quote, span
from app.review.rules.migration_facts import MigrationFacts, Op, norm
from app.review.rules.migration_read import targets_postgres

Check = Callable[[Change, RuleContext], Iterable[Report]]


def _migrations(change: Change) -> Iterator[tuple[ChangedFile, MigrationFacts]]:
    for f in change.reviewed:
        facts = f.migration
        if facts is not None:
            yield f, facts


def _new_tables(change: Change) -> set[str]:
    return {t for _, facts in _migrations(change) for t in facts.created_tables()}


def _ops(change: Change, kind: str) -> Iterator[tuple[ChangedFile, Op]]:
    new_tables = _new_tables(change) if kind in ("add_column", "create_index", "add_fk") else set()
    for f, facts in _migrations(change):
        for op in facts.ops:
            if op.kind == kind and norm(op.table) not in new_tables:
                yield f, op


def _where(op: Op) -> str:
    target = norm(op.table) + (f".{norm(op.column)}" if op.column else "")
    return f"`{target}`" if target else "the table"


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
    for f, facts in _migrations(change):
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


# ---------------------------------------------------------------- column and lock hazards


def _not_null(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f, op in _ops(change, "add_column"):
        if op.not_null and not op.has_default:
            yield Report(
                path=f.path,
                key=f"{norm(op.table)}.{norm(op.column)}",
                title=f"NOT NULL column {_where(op)} added without a default",
                evidence=f"`{quote(op.text)}` adds a NOT NULL column to an existing table with "
                "no default: it fails on any table with rows (or forces a rewrite).",
                recommendation="Add it nullable (or with a server default), backfill in batches, "
                "then set NOT NULL in a later migration.",
                lines=span(op.line),
            )


def _pg_report(change: Change, f: ChangedFile, op: Op, what: str, fix: str) -> Report:
    sure = op.postgres or targets_postgres(change)
    return Report(
        path=f.path,
        key=f"{op.kind}\0{op.text}",
        title=f"{what} on {_where(op)}" if sure else f"{what} on {_where(op)}: PostgreSQL?",
        evidence=f"`{quote(op.text)}`",
        recommendation=fix,
        lines=span(op.line),
        severity=None if sure else Severity.INFO,
        type="evidence" if sure else "question",
    )


def _index(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f, op in _ops(change, "create_index"):
        if not op.concurrent:
            yield _pg_report(
                change,
                f,
                op,
                "Index created without CONCURRENTLY",
                "On PostgreSQL a plain CREATE INDEX blocks writes to the table for the whole "
                "build. Use CREATE INDEX CONCURRENTLY (Alembic: `postgresql_concurrently=True` in "
                "an `autocommit_block()`; Django: `AddIndexConcurrently`; Rails: "
                "`algorithm: :concurrently` with `disable_ddl_transaction!`).",
            )


def _foreign_key(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f, op in _ops(change, "add_fk"):
        if not op.not_valid:
            yield _pg_report(
                change,
                f,
                op,
                "Foreign key added without NOT VALID",
                "Validating a new foreign key scans the table under a lock that blocks writes. "
                "Add it NOT VALID (Rails: `validate: false`), then VALIDATE CONSTRAINT in a "
                "separate migration.",
            )


def _backfill(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f, op in _ops(change, "update"):
        if op.batched:
            continue
        yield Report(
            path=f.path,
            key=op.text,
            title="Unbatched backfill in a migration"
            if not op.filtered
            else "Backfill in one statement: how many rows?",
            evidence=f"`{quote(op.text)}` updates "
            + (
                "every row of the table in one transaction."
                if not op.filtered
                else "all matching rows at once."
            ),
            recommendation="Backfill in batches (by primary-key ranges, a few thousand rows per "
            "transaction) outside the schema migration, so locks stay short and replicas keep up.",
            lines=span(op.line),
            severity=None if not op.filtered else Severity.INFO,
            type="evidence" if not op.filtered else "question",
        )


# ---------------------------------------------------------------- change shape


def _code_changed(change: Change) -> list[ChangedFile]:
    return [f for f in change.reviewed if f.is_source and (f.diff.added or f.diff.removed)]


def _expand_contract(change: Change, ctx: RuleContext) -> Iterator[Report]:
    code = _code_changed(change)
    if not code:
        return
    verbs = {
        "drop_column": "drops",
        "rename_column": "renames",
        "alter_type": "changes the type of",
    }
    for kind, verb in verbs.items():
        for f, op in _ops(change, kind):
            yield Report(
                path=f.path,
                key=f"{kind}\0{norm(op.table)}.{norm(op.column)}",
                title=f"Migration {verb} {_where(op)} in the same change as code",
                evidence=f"`{quote(op.text)}` ships with code changes in "
                + ", ".join(c.path for c in code[:3])
                + ("…" if len(code) > 3 else "")
                + ": during the deploy, old code still runs against the new schema.",
                recommendation="Expand-contract: first ship code that no longer needs the old "
                "column (and, for a rename or type change, writes both), then drop or rename it "
                "in a later change.",
                lines=span(op.line),
            )


def _edited(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f in change.reviewed:
        if f.kind.kind != "migration" or f.diff.status not in ("modified", "renamed"):
            continue
        if not f.diff.hunks:
            continue
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
    _rule(
        "migration-not-null-without-default",
        "A NOT NULL column added to an existing table without a default.",
        Severity.MAJOR,
        _not_null,
    ),
    _rule(
        "migration-index-not-concurrent",
        "An index on an existing table created without CONCURRENTLY (PostgreSQL).",
        Severity.MAJOR,
        _index,
    ),
    _rule(
        "migration-fk-not-valid",
        "A foreign key on an existing table added without NOT VALID (PostgreSQL).",
        Severity.MAJOR,
        _foreign_key,
    ),
    _rule(
        "migration-unbatched-backfill",
        "An UPDATE backfill inside a migration that is not batched.",
        Severity.MAJOR,
        _backfill,
    ),
    _rule(
        "migration-expand-contract",
        "A column dropped, renamed or retyped in the same change as code.",
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
