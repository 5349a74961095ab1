"""Column changes that fail, rewrite the table, or break the code still running during a deploy."""

from __future__ import annotations

from collections.abc import Iterator

from app.review.findings import Severity
from app.review.rules.base import Change, Report, Rule, RuleContext, quote, span
from app.review.rules.migration_facts import norm
from app.review.rules.migration_ops import Check, code_note, ops, where


def _not_null(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f, op in ops(change, "add_column"):
        if op.not_null and not op.has_default:
            yield Report(
                path=f.path,
                key=f"{norm(op.table)}.{norm(op.column)}",
                title=f"NOT NULL column {where(op)} added without a default",
                evidence=f"`{quote(op.text)}` adds a NOT NULL column to an existing table with "
                "no default: it fails on any table with rows (or forces a rewrite).",
                recommendation="Add it nullable (or with a server default), backfill in batches, "
                "then set NOT NULL in a later migration.",
                lines=span(op.line),
            )


def _set_not_null(change: Change, ctx: RuleContext) -> Iterator[Report]:
    # A validated CHECK (col IS NOT NULL) lets PostgreSQL 12+ skip the scan.
    proven = {norm(op.table) for _, op in ops(change, "validate")}
    for f, op in ops(change, "set_not_null"):
        if norm(op.table) in proven:
            continue
        yield Report(
            path=f.path,
            key=f"set-not-null\0{norm(op.table)}.{norm(op.column)}",
            title=f"NOT NULL set on existing column {where(op)}",
            evidence=f"`{quote(op.text)}` makes the database check every row under an ACCESS "
            "EXCLUSIVE lock (reads and writes wait), and fails if any row is still NULL.",
            recommendation="Backfill first; then add `CHECK (col IS NOT NULL) NOT VALID`, "
            "VALIDATE CONSTRAINT in a later migration, and only then SET NOT NULL (PostgreSQL "
            "12+ skips the scan) and drop the check. Rails: `add_check_constraint … validate: "
            "false`, `validate_check_constraint`, then `change_column_null`.",
            lines=span(op.line),
        )


def _volatile_default(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f, op in ops(change, "add_column"):
        if op.volatile:
            yield Report(
                path=f.path,
                key=f"volatile\0{norm(op.table)}.{norm(op.column)}",
                title=f"Column {where(op)} added with a volatile default",
                evidence=f"`{quote(op.text)}`: a volatile default (random(), gen_random_uuid(), "
                "clock_timestamp(), a serial or generated column) is computed for every existing "
                "row, rewriting the table under an ACCESS EXCLUSIVE lock.",
                recommendation="Add the column without the default, set the default in a second "
                "statement (it then applies to new rows only), and backfill existing rows in "
                "batches.",
                lines=span(op.line),
            )


def _type_change(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f, op in ops(change, "alter_type"):
        yield Report(
            path=f.path,
            key=f"type\0{norm(op.table)}.{norm(op.column)}",
            title=f"Column type changed on {where(op)}"
            + (": does it widen the old type?" if op.unsure else ""),
            evidence=f"`{quote(op.text)}` changes a column's type: unless the new type only "
            "widens the old one (varchar to text, a longer varchar), the table and its indexes "
            "are rewritten under an ACCESS EXCLUSIVE lock, and running code may write values "
            "the new type rejects." + code_note(change),
            recommendation="Add a new column of the new type, write both from the code, "
            "backfill in batches, switch reads, then drop the old column in a later change.",
            lines=span(op.line),
            severity=Severity.INFO if op.unsure else None,
            type="question" if op.unsure else "evidence",
        )


def _rename(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f, op in ops(change, "rename_column", "rename_table"):
        what = "Column" if op.kind == "rename_column" else "Table"
        yield Report(
            path=f.path,
            key=f"{op.kind}\0{norm(op.table)}.{norm(op.column)}",
            title=f"{what} {where(op)} renamed",
            evidence=f"`{quote(op.text)}`: from the moment it runs until every server runs the "
            "new code, the code still deployed queries the old name and fails." + code_note(change),
            recommendation="Expand-contract: add the new column (or a view / the new table), "
            "write both, backfill, move reads, then drop the old name in a later change "
            "(Rails: `ignored_columns`; Django: keep `db_column`/`db_table` on the old name).",
            lines=span(op.line),
        )


def _rule(id: str, doc: str, check: Check) -> Rule:
    return Rule(id=id, doc=doc, category="migrations", severity=Severity.MAJOR, check=check)


RULES = (
    _rule(
        "migration-not-null-without-default",
        "A NOT NULL column added to an existing table without a default (the framework's "
        "implied defaults count).",
        _not_null,
    ),
    _rule(
        "migration-set-not-null",
        "NOT NULL set on an existing column (SQL, Alembic, Django, Rails, Knex).",
        _set_not_null,
    ),
    _rule(
        "migration-volatile-default",
        "A column added to an existing table with a volatile default, serial or generated "
        "value (a full rewrite).",
        _volatile_default,
    ),
    _rule(
        "migration-column-type-change",
        "A column's type changed on an existing table (a question when it may only widen).",
        _type_change,
    ),
    _rule(
        "migration-rename",
        "A column or table renamed while the deployed code still uses the old name.",
        _rename,
    ),
)
