"""Migration steps that hold a lock while they scan or build: indexes, constraints, backfills.

PostgreSQL-only advice (CONCURRENTLY, NOT VALID) is evidence when the change shows PostgreSQL
and a question otherwise: on MySQL or SQLite it would be wrong.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.review.findings import Severity
from app.review.rules.base import Change, Report, Rule, RuleContext, quote, span
from app.review.rules.migration_ops import Check, migrations, ops, pg_report
from app.review.rules.migration_read import PostgresHint

_CREATE_FIX = (
    "On PostgreSQL a plain CREATE INDEX blocks writes to the table for the whole build. Use "
    "CREATE INDEX CONCURRENTLY (Alembic: `postgresql_concurrently=True` in an "
    "`autocommit_block()`; Django: `AddIndexConcurrently`; Rails: `algorithm: :concurrently` "
    "with `disable_ddl_transaction!`)."
)
_DROP_FIX = (
    "DROP INDEX takes an ACCESS EXCLUSIVE lock: every query on the table queues behind it. Use "
    "DROP INDEX CONCURRENTLY outside a transaction (Alembic: `postgresql_concurrently=True` in "
    "an `autocommit_block()`; Django: `RemoveIndexConcurrently`; Rails: `remove_index … "
    "algorithm: :concurrently` with `disable_ddl_transaction!`)."
)


_WHAT = {"create_index": "created", "drop_index": "dropped", "reindex": "rebuilt"}


def _index(change: Change, ctx: RuleContext) -> Iterator[Report]:
    pg = PostgresHint(change)
    for f, op in ops(change, "create_index", "drop_index", "reindex"):
        if op.concurrent:
            continue
        fix = _DROP_FIX if op.kind == "drop_index" else _CREATE_FIX
        yield pg_report(pg, f, op, f"Index {_WHAT[op.kind]} without CONCURRENTLY", fix)


_NO_TRANSACTION_HOW = (
    "Run it outside the migration's transaction: Alembic `with "
    "op.get_context().autocommit_block():`; Django `atomic = False` on the Migration; Rails "
    "`disable_ddl_transaction!`; Knex `exports.config = { transaction: false }`; TypeORM "
    "`transaction = false`; plain SQL without BEGIN/COMMIT around it."
)


def _concurrently_in_transaction(change: Change, ctx: RuleContext) -> Iterator[Report]:
    # Not limited to existing tables: the statement fails on a new table all the same.
    for f, facts in migrations(change):
        for op in facts.ops:
            if op.concurrent and op.in_transaction:
                yield Report(
                    path=f.path,
                    key=f"{op.kind}\0{op.text}",
                    title="CONCURRENTLY inside the migration's transaction: it will fail",
                    evidence=f"`{quote(op.text)}` runs inside the transaction the framework opens "
                    'for this migration; PostgreSQL refuses it ("cannot run inside a transaction '
                    'block") and the deploy stops.',
                    recommendation=_NO_TRANSACTION_HOW,
                    lines=span(op.line),
                )


def _foreign_key(change: Change, ctx: RuleContext) -> Iterator[Report]:
    pg = PostgresHint(change)
    for f, op in ops(change, "add_fk"):
        if not op.not_valid:
            yield pg_report(
                pg,
                f,
                op,
                "Foreign key added without NOT VALID",
                "Validating a new foreign key scans the table under a lock that blocks writes. "
                "Add it NOT VALID (Rails: `validate: false`), then VALIDATE CONSTRAINT in a "
                "separate migration.",
            )


def _constraint(change: Change, ctx: RuleContext) -> Iterator[Report]:
    pg = PostgresHint(change)
    for f, op in ops(change, "add_check", "add_unique"):
        if op.kind == "add_check" and not op.not_valid:
            yield pg_report(
                pg,
                f,
                op,
                "CHECK constraint added without NOT VALID",
                "Adding a CHECK constraint scans every row under an ACCESS EXCLUSIVE lock. Add "
                "it NOT VALID (Rails: `validate: false`), then VALIDATE CONSTRAINT in a "
                "separate migration, which only blocks schema changes.",
            )
        elif op.kind == "add_unique":
            yield pg_report(
                pg,
                f,
                op,
                "UNIQUE constraint built in place",
                "ADD CONSTRAINT … UNIQUE builds its index under an ACCESS EXCLUSIVE lock that "
                "blocks reads and writes. Build the unique index CONCURRENTLY first, then "
                "`ADD CONSTRAINT … UNIQUE USING INDEX` (or keep the unique index alone).",
            )


def _backfill(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f, op in ops(change, "update"):
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


def _rule(id: str, doc: str, check: Check) -> Rule:
    return Rule(id=id, doc=doc, category="migrations", severity=Severity.MAJOR, check=check)


RULES = (
    _rule(
        "migration-index-not-concurrent",
        "An index on an existing table created, dropped or rebuilt without CONCURRENTLY "
        "(PostgreSQL).",
        _index,
    ),
    _rule(
        "migration-concurrently-in-transaction",
        "CREATE/DROP INDEX CONCURRENTLY (or REINDEX) where the framework runs the migration in a "
        "transaction, which PostgreSQL refuses.",
        _concurrently_in_transaction,
    ),
    _rule(
        "migration-fk-not-valid",
        "A foreign key on an existing table added without NOT VALID (PostgreSQL).",
        _foreign_key,
    ),
    _rule(
        "migration-constraint-lock",
        "A CHECK constraint without NOT VALID, or a UNIQUE constraint built in place, on an "
        "existing table (PostgreSQL).",
        _constraint,
    ),
    _rule(
        "migration-unbatched-backfill",
        "An UPDATE backfill inside a migration (also inside a WITH) that is not batched.",
        _backfill,
    ),
)
