"""Alembic revisions, read with `ast`: what `upgrade()` does and whether `downgrade()` undoes it.

Alembic's implied defaults: a `Column` is nullable unless `nullable=False` or `primary_key=True`;
only `server_default` reaches the database (`default=` is filled in by SQLAlchemy on insert);
`alter_column` changes nullability only when `nullable=` is passed, and autogenerate records
the old state in `existing_type=` / `existing_nullable=`, which tells a widening from a rewrite.
"""

from __future__ import annotations

import ast
from dataclasses import replace

from app.review.rules.migration_facts import VOLATILE_CALL, MigrationFacts, Op, RollbackIssue
from app.review.rules.migration_python import (
    LineMap,
    arg,
    callee,
    embedded_sql,
    is_const,
    kw,
    number,
    parse_lenient,
    receiver,
    source_line,
    string,
    trivial,
    type_name,
)

_STRING_TYPES = frozenset(
    {"String", "VARCHAR", "Unicode", "NVARCHAR", "CHAR", "Text", "TEXT", "AutoString"}
)
_UNBOUNDED = frozenset({"Text", "TEXT", "UnicodeText", "CITEXT"})


def _column(col: ast.expr | None) -> tuple[str | None, bool, bool, bool, bool]:
    """(name, not_null, has_default, volatile, has_foreign_key) of an `sa.Column(...)` call."""
    if not isinstance(col, ast.Call):
        return None, False, False, False, False
    name = string(col.args[0]) if col.args else string(kw(col, "name"))
    not_null = is_const(kw(col, "nullable"), False) or is_const(kw(col, "primary_key"), True)
    default = kw(col, "server_default")
    has_default = default is not None and not is_const(default, None)
    generated = any(type_name(a) in ("Identity", "Computed") for a in col.args)
    volatile = generated or bool(
        has_default and default is not None and VOLATILE_CALL.search(ast.unparse(default))
    )
    fk = any(isinstance(a, ast.Call) and callee(a) == "ForeignKey" for a in col.args)
    return name, not_null, has_default or generated, volatile, fk


def _length(node: ast.expr | None) -> int | None:
    if not isinstance(node, ast.Call):
        return None
    return number(node.args[0]) if node.args else number(kw(node, "length"))


def _widening(old: ast.expr | None, new: ast.expr | None) -> bool:
    """A string type made longer or unbounded: no rewrite on PostgreSQL (worth a question)."""
    old_name, new_name = type_name(old), type_name(new)
    if old_name not in _STRING_TYPES or new_name not in _STRING_TYPES | _UNBOUNDED:
        return False
    if new_name in _UNBOUNDED or _length(new) is None:
        return True
    old_len, new_len = _length(old), _length(new)
    return old_len is not None and new_len is not None and new_len >= old_len


class _Upgrade(ast.NodeVisitor):
    def __init__(self, lines: list[str], line_of: LineMap) -> None:
        self.lines, self.line_of = lines, line_of
        self.ops: list[Op] = []
        self.batch_tables: dict[str, str] = {}
        self.strings: dict[str, ast.expr] = {}  # `sql = """UPDATE …"""` for a later execute(sql)
        self.loop_depth = 0
        self.autocommit_depth = 0  # inside `with op.get_context().autocommit_block():`

    def _add(self, ops: list[Op]) -> None:
        # CONCURRENTLY fails inside the revision's transaction unless in an autocommit block.
        outside = self.autocommit_depth > 0
        self.ops.extend(
            replace(op, in_transaction=True) if op.concurrent and not outside else op for op in ops
        )

    def visit_Assign(self, node: ast.Assign) -> None:
        target = node.targets[0] if len(node.targets) == 1 else None
        if isinstance(target, ast.Name):
            self.strings[target.id] = node.value
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        autocommit = False
        for item in node.items:
            call = item.context_expr
            if isinstance(call, ast.Call) and callee(call) == "batch_alter_table":
                table = string(arg(call, 0, "table_name"))
                if table and isinstance(item.optional_vars, ast.Name):
                    self.batch_tables[item.optional_vars.id] = table
            autocommit = autocommit or (
                isinstance(call, ast.Call) and callee(call) == "autocommit_block"
            )
        self.autocommit_depth += autocommit
        self.generic_visit(node)
        self.autocommit_depth -= autocommit

    def visit_For(self, node: ast.For) -> None:
        self.loop_depth += 1
        self.generic_visit(node)
        self.loop_depth -= 1

    visit_While = visit_For  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        name, recv = callee(node), receiver(node)
        line, text = self.line_of(node.lineno), source_line(self.lines, node.lineno)
        if name == "execute":
            sql = arg(node, 0, "sqltext")
            if isinstance(sql, ast.Name):
                sql = self.strings.get(sql.id)
            self._add(embedded_sql(sql, line, self.loop_depth > 0))
            return
        batch = self.batch_tables.get(recv)
        if recv != "op" and batch is None:
            return
        self._add(_op(node, name, batch, line, text))


def _op(node: ast.Call, name: str, batch: str | None, line: int, text: str) -> list[Op]:
    """The ops of one `op.<name>(…)` (or `batch_op.<name>(…)`, which omits the table)."""
    shift = 0 if batch is not None else 1
    table = batch or string(arg(node, 0, "table_name"))
    if name == "create_table":
        return [Op("create_table", line, text, string(arg(node, 0, "table_name")))]
    if name == "drop_table":
        return [Op("drop_table", line, text, table)]
    if name == "rename_table":
        return [Op("rename_table", line, text, string(arg(node, 0, "old_table_name")))]
    if name == "add_column":
        col, not_null, default, volatile, fk = _column(arg(node, shift, "column"))
        ops = [Op("add_column", line, text, table, col, not_null, default, volatile=volatile)]
        return ops + ([Op("add_fk", line, text, table, col)] if fk else [])
    if name == "drop_column":
        return [Op("drop_column", line, text, table, string(arg(node, shift, "column_name")))]
    if name == "alter_column":
        return _alter_column(node, table, string(arg(node, shift, "column_name")), line, text)
    if name in ("create_index", "drop_index"):
        index_table = batch or string(arg(node, 1, "table_name"))
        concurrent = is_const(kw(node, "postgresql_concurrently"), True)
        index = string(arg(node, 0, "index_name"))
        return [Op(name, line, text, index_table, concurrent=concurrent, name=index)]  # type: ignore[arg-type]
    not_valid = is_const(kw(node, "postgresql_not_valid"), True)
    if name == "create_foreign_key":
        source = batch or string(arg(node, 1, "source_table"))
        return [Op("add_fk", line, text, source, not_valid=not_valid)]
    constrained = batch or string(arg(node, 1, "table_name"))
    if name == "create_check_constraint":
        return [Op("add_check", line, text, constrained, not_valid=not_valid)]
    if name == "create_unique_constraint":
        return [Op("add_unique", line, text, constrained)]
    return []


def _alter_column(
    node: ast.Call, table: str | None, col: str | None, line: int, text: str
) -> list[Op]:
    ops = []
    if kw(node, "new_column_name") is not None:
        ops.append(Op("rename_column", line, text, table, col))
    new_type = kw(node, "type_")
    if new_type is not None:
        unsure = kw(node, "postgresql_using") is None and _widening(
            kw(node, "existing_type"), new_type
        )
        ops.append(Op("alter_type", line, text, table, col, unsure=unsure))
    if is_const(kw(node, "nullable"), False) and not is_const(kw(node, "existing_nullable"), False):
        ops.append(Op("set_not_null", line, text, table, col))
    return ops


def _rollback(
    upgrade: ast.FunctionDef, downgrade: ast.FunctionDef | None, lines: list[str], line_of: LineMap
) -> list[RollbackIssue]:
    if downgrade is None:
        return [RollbackIssue(line_of(upgrade.lineno), "def upgrade()", "missing", "downgrade()")]
    if trivial(downgrade.body) and not trivial(upgrade.body):
        text = source_line(lines, downgrade.lineno)
        return [RollbackIssue(line_of(downgrade.lineno), text, "empty", "downgrade()")]
    return []


def alembic_facts(source: str, line_of: LineMap) -> MigrationFacts:
    tree, repaired = parse_lenient(source)
    if tree is None:
        return MigrationFacts(parsed=False)
    lines = source.split("\n")
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    upgrade = funcs.get("upgrade")
    if upgrade is None:  # not a revision file (env.py, a helper): nothing to judge
        return MigrationFacts()
    visitor = _Upgrade(lines, line_of)
    for stmt in upgrade.body:
        visitor.visit(stmt)
    # A repaired file may have lost its downgrade to a blanked line: judge only what it does.
    rollback = [] if repaired else _rollback(upgrade, funcs.get("downgrade"), lines, line_of)
    return MigrationFacts(ops=visitor.ops, rollback=rollback)
