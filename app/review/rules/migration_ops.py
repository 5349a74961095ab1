"""The operations of a change's migrations, as the migration rules read them.

Ops on a table created in the same change are left out: nobody reads or writes that table
yet, so its locks, rewrites and renames harm no one. A Django `AlterField` is resolved here
against the model's old declaration into what it really does (tighten NULL, change the type).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from app.review.findings import Severity
from app.review.rules.base import Change, ChangedFile, Report, RuleContext, quote, span
from app.review.rules.migration_facts import MigrationFacts, Op, OpKind, norm
from app.review.rules.migration_models import old_field
from app.review.rules.migration_read import PostgresHint

Check = Callable[[Change, RuleContext], Iterable[Report]]


def migrations(change: Change) -> Iterator[tuple[ChangedFile, MigrationFacts]]:
    for f in change.reviewed:
        facts = f.migration
        if facts is not None:
            yield f, facts


def new_tables(change: Change) -> set[str]:
    return {t for _, facts in migrations(change) for t in facts.created_tables()}


def _resolve(change: Change, op: Op) -> list[Op]:
    """What a Django AlterField does, given the field it replaces (nothing when unseen):
    tighten NULL, change the type, add a unique constraint or an index."""
    if op.kind != "alter_field" or op.field is None or not op.table or not op.column:
        return [op]
    old = old_field(change, op.table, op.column)
    if old is None:
        return []
    new, out = op.field, []
    if old.null and not new.null:
        out.append(Op("set_not_null", op.line, op.text, op.table, op.column))
    shrinks = (
        old.max_length is not None
        and new.max_length is not None
        and new.max_length < old.max_length
    )
    if old.cls != new.cls or shrinks:
        out.append(Op("alter_type", op.line, op.text, op.table, op.column))
    if new.unique and not old.unique:
        out.append(Op("add_unique", op.line, op.text, op.table, op.column))
    elif new.db_index and not old.db_index:
        out.append(Op("create_index", op.line, op.text, op.table, op.column))
    return out


def _new_indexes(change: Change) -> set[str]:
    return {
        norm(op.name)
        for _, facts in migrations(change)
        for op in facts.ops
        if op.kind == "create_index" and op.name
    }


def ops(change: Change, *kinds: OpKind) -> Iterator[tuple[ChangedFile, Op]]:
    """Ops of the given kinds on tables (and indexes) that exist before the change."""
    fresh = new_tables(change)
    # DROP INDEX names no table: one this change creates is as new as a new table's (SQLite
    # rebuilds, TypeORM's drop-and-recreate in one init migration).
    fresh_indexes = _new_indexes(change) if "drop_index" in kinds else set()
    for f, facts in migrations(change):
        for raw in facts.ops:
            for op in _resolve(change, raw):
                if op.kind not in kinds or (op.kind != "create_table" and norm(op.table) in fresh):
                    continue
                if op.kind == "drop_index" and op.name and norm(op.name) in fresh_indexes:
                    continue
                yield f, op


def where(op: Op) -> str:
    target = norm(op.table) + (f".{norm(op.column)}" if op.column else "")
    return f"`{target}`" if target else "the table"


def pg_report(pg: PostgresHint, f: ChangedFile, op: Op, what: str, fix: str) -> Report:
    """Evidence when the change shows PostgreSQL, a question otherwise (the advice is PG's)."""
    sure = op.postgres or bool(pg)
    return Report(
        path=f.path,
        key=f"{op.kind}\0{op.text}",
        title=f"{what} on {where(op)}" if sure else f"{what} on {where(op)}: PostgreSQL?",
        evidence=f"`{quote(op.text)}`",
        recommendation=fix,
        lines=span(op.line),
        severity=None if sure else Severity.INFO,
        type="evidence" if sure else "question",
    )


def code_changed(change: Change) -> list[ChangedFile]:
    """Application files this change edits (not tests, docs or migrations)."""
    return [f for f in change.reviewed if f.is_source and (f.diff.added or f.diff.removed)]


def code_note(change: Change) -> str:
    """A sentence naming the code that ships with the migration, or ""."""
    code = code_changed(change)
    if not code:
        return ""
    names = ", ".join(c.path for c in code[:3]) + ("…" if len(code) > 3 else "")
    return f" It ships with code changes in {names}."
