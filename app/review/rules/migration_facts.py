"""What a migration file does, the same shape whatever framework wrote it.

Framework readers (SQL, Alembic/Django via `ast`, Rails, Knex) turn a migration into `Op`s
(forward direction only: a rollback that drops a column is its job) and rollback problems.
The migration rules then judge `Op`s without knowing which framework they came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

OpKind = Literal[
    "create_table",
    "add_column",
    "drop_column",
    "rename_column",
    "alter_type",
    "create_index",
    "add_fk",
    "update",
    "set_not_null",
    "drop_index",
    "rename_table",
    "drop_table",
    "add_check",
    "add_unique",
    "validate",  # VALIDATE CONSTRAINT: a NOT VALID check or key proven afterwards
    "alter_field",  # Django AlterField: judged against the model's old declaration
    "reindex",
]


@dataclass(frozen=True)
class FieldSpec:
    """A Django field as declared, to compare an AlterField with the model it replaces."""

    cls: str  # CharField, ForeignKey, …
    null: bool
    max_length: int | None = None
    unique: bool = False
    db_index: bool = False


@dataclass(frozen=True)
class Op:
    kind: OpKind
    line: int  # new-file line number of the statement or call
    text: str  # the code, for evidence
    table: str | None = None
    column: str | None = None
    not_null: bool = False  # add_column
    has_default: bool = False  # add_column
    concurrent: bool = False  # create_index, drop_index, reindex
    not_valid: bool = False  # add_fk, add_check
    filtered: bool = False  # update: has a WHERE (or .filter)
    batched: bool = False  # update: LIMIT, key ranges, a loop, in_batches…
    postgres: bool = False  # the statement itself is PostgreSQL-only syntax
    volatile: bool = False  # add_column: a volatile default or generated value (rewrites rows)
    unsure: bool = False  # the reader cannot tell whether it is a hazard (ask, do not assert)
    field: FieldSpec | None = None  # alter_field: the new declaration
    name: str | None = None  # create_index, drop_index: the index's name when stated
    in_transaction: bool = False  # a CONCURRENTLY step the framework runs inside a transaction


@dataclass(frozen=True)
class RollbackIssue:
    line: int | None
    text: str
    problem: str  # "missing" or "empty"
    what: str  # e.g. "downgrade()", "RunPython without reverse_code"


@dataclass
class MigrationFacts:
    ops: list[Op] = field(default_factory=list)
    rollback: list[RollbackIssue] = field(default_factory=list)
    parsed: bool = True  # False: the file could not be read as its language

    def in_transaction(self, yes: bool) -> None:
        """Mark the CONCURRENTLY steps as run inside a transaction (where they fail) or not."""
        self.ops = [replace(op, in_transaction=yes) if op.concurrent else op for op in self.ops]

    def created_tables(self) -> set[str]:
        return {norm(op.table) for op in self.ops if op.kind == "create_table" and op.table}


def norm(name: str | None) -> str:
    """A table or column name without quotes, schema or case."""
    if not name:
        return ""
    return name.strip("\"'`[]:").split(".")[-1].strip("\"'`[]").lower()


# Functions PostgreSQL marks VOLATILE that defaults commonly call: a column added with one is
# filled row by row (a table rewrite under an exclusive lock), unlike now() or a constant.
VOLATILE_CALL = re.compile(
    r"\b(?:random|clock_timestamp|timeofday|gen_random_uuid|uuid_generate_v(?:1mc|1|4)"
    r"|nextval|txid_current)\s*\(",
    re.I,
)
# Types whose new value every existing row gets computed: serial columns and stored generation.
REWRITE_TYPE = re.compile(r"\b(?:small|big)?serial\b|\bGENERATED\b", re.I)
