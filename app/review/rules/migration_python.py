"""Alembic and Django migrations, read with `ast` (only whole files: added migrations)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

from app.review.rules.migration_facts import MigrationFacts, Op, RollbackIssue
from app.review.rules.migration_sql import sql_ops

LineMap = Callable[[int], int]  # ast line number (1-based) -> new-file line number


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _arg(call: ast.Call, index: int, name: str) -> ast.expr | None:
    if len(call.args) > index:
        return call.args[index]
    return _kw(call, name)


def _str(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_const(node: ast.expr | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _receiver(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id
    return ""


def _trivial(body: list[ast.stmt]) -> bool:
    return all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in body
    )


def _source_line(lines: list[str], lineno: int) -> str:
    return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""


def _sql_strings(node: ast.expr | None) -> list[str]:
    """String SQL passed as a constant, `text("…")`, or a list of those."""
    if node is None:
        return []
    if (s := _str(node)) is not None:
        return [s]
    if isinstance(node, ast.Call) and _callee(node) == "text" and node.args:
        return _sql_strings(node.args[0])
    if isinstance(node, ast.List | ast.Tuple):
        return [s for elt in node.elts for s in _sql_strings(elt)]
    return []


def _embedded_sql(node: ast.expr | None, line: int, in_loop: bool) -> list[Op]:
    ops: list[Op] = []
    for sql in _sql_strings(node):
        for op in sql_ops(sql, lambda _i: line):
            if op.kind == "update" and in_loop:
                op = Op(**{**op.__dict__, "batched": True})
            ops.append(op)
    return ops


# ---------------------------------------------------------------- Alembic


def _alembic_column(col: ast.expr | None) -> tuple[str | None, bool, bool, bool]:
    """(name, not_null, has_default, has_foreign_key) of an `sa.Column(...)` call."""
    if not isinstance(col, ast.Call):
        return None, False, False, False
    name = _str(col.args[0]) if col.args else _str(_kw(col, "name"))
    not_null = _is_const(_kw(col, "nullable"), False) or _is_const(_kw(col, "primary_key"), True)
    default = _kw(col, "server_default")
    has_default = default is not None and not _is_const(default, None)
    fk = any(isinstance(a, ast.Call) and _callee(a) == "ForeignKey" for a in col.args)
    return name, not_null, has_default, fk


class _AlembicUpgrade(ast.NodeVisitor):
    def __init__(self, lines: list[str], line_of: LineMap) -> None:
        self.lines, self.line_of = lines, line_of
        self.ops: list[Op] = []
        self.batch_tables: dict[str, str] = {}
        self.loop_depth = 0

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            call = item.context_expr
            if isinstance(call, ast.Call) and _callee(call) == "batch_alter_table":
                table = _str(_arg(call, 0, "table_name"))
                if table and isinstance(item.optional_vars, ast.Name):
                    self.batch_tables[item.optional_vars.id] = table
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self.loop_depth += 1
        self.generic_visit(node)
        self.loop_depth -= 1

    visit_While = visit_For  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        name, recv = _callee(node), _receiver(node)
        line, text = self.line_of(node.lineno), _source_line(self.lines, node.lineno)
        if name == "execute":
            self.ops.extend(_embedded_sql(_arg(node, 0, "sqltext"), line, self.loop_depth > 0))
            return
        batch = self.batch_tables.get(recv)
        if recv != "op" and batch is None:
            return
        shift = 0 if batch is not None else 1  # batch ops omit the table argument
        table = batch or _str(_arg(node, 0, "table_name"))
        if name == "create_table":
            self.ops.append(Op("create_table", line, text, _str(_arg(node, 0, "table_name"))))
        elif name == "add_column":
            col, not_null, default, fk = _alembic_column(_arg(node, shift, "column"))
            self.ops.append(Op("add_column", line, text, table, col, not_null, default))
            if fk:
                self.ops.append(Op("add_fk", line, text, table, col))
        elif name == "drop_column":
            self.ops.append(
                Op("drop_column", line, text, table, _str(_arg(node, shift, "column_name")))
            )
        elif name == "alter_column":
            col = _str(_arg(node, shift, "column_name"))
            if _kw(node, "new_column_name") is not None:
                self.ops.append(Op("rename_column", line, text, table, col))
            if _kw(node, "type_") is not None:
                self.ops.append(Op("alter_type", line, text, table, col))
        elif name == "create_index":
            index_table = batch or _str(_arg(node, 1, "table_name"))
            concurrent = _is_const(_kw(node, "postgresql_concurrently"), True)
            self.ops.append(Op("create_index", line, text, index_table, concurrent=concurrent))
        elif name == "create_foreign_key":
            source = batch or _str(_arg(node, 1, "source_table"))
            not_valid = _is_const(_kw(node, "postgresql_not_valid"), True)
            self.ops.append(Op("add_fk", line, text, source, not_valid=not_valid))


def alembic_facts(source: str, line_of: LineMap) -> MigrationFacts:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return MigrationFacts(parsed=False)
    lines = source.split("\n")
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    facts = MigrationFacts()
    upgrade = funcs.get("upgrade")
    if upgrade is None:  # not a revision file (env.py, a helper): nothing to judge
        return facts
    visitor = _AlembicUpgrade(lines, line_of)
    for stmt in upgrade.body:
        visitor.visit(stmt)
    facts.ops = visitor.ops
    downgrade = funcs.get("downgrade")
    if downgrade is None:
        facts.rollback.append(
            RollbackIssue(line_of(upgrade.lineno), "def upgrade()", "missing", "downgrade()")
        )
    elif _trivial(downgrade.body) and not _trivial(upgrade.body):
        facts.rollback.append(
            RollbackIssue(
                line_of(downgrade.lineno),
                _source_line(lines, downgrade.lineno),
                "empty",
                "downgrade()",
            )
        )
    return facts


# ---------------------------------------------------------------- Django


def _operations(tree: ast.Module) -> Iterator[ast.Call]:
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef) or cls.name != "Migration":
            continue
        for stmt in cls.body:
            if (
                isinstance(stmt, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "operations" for t in stmt.targets)
                and isinstance(stmt.value, ast.List | ast.Tuple)
            ):
                yield from (e for e in stmt.value.elts if isinstance(e, ast.Call))


def _django_backfills(
    tree: ast.Module, func_name: str, lines: list[str], line_of: LineMap
) -> list[Op]:
    """`.update(...)` calls on querysets inside the RunPython function `func_name`."""
    func = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == func_name), None
    )
    if func is None:
        return []
    loops = [n for n in ast.walk(func) if isinstance(n, ast.For | ast.While)]
    in_loop = {id(c) for loop in loops for c in ast.walk(loop)}
    ops = []
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and _callee(node) == "update":
            chain = ast.unparse(node.func)
            if "objects" not in chain and "filter" not in chain and "all()" not in chain:
                continue
            filtered = ".filter(" in chain or ".exclude(" in chain
            batched = id(node) in in_loop or "[" in chain  # sliced querysets are batches
            ops.append(
                Op(
                    "update",
                    line_of(node.lineno),
                    _source_line(lines, node.lineno),
                    filtered=filtered,
                    batched=batched,
                )
            )
    return ops


def django_facts(source: str, line_of: LineMap) -> MigrationFacts:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return MigrationFacts(parsed=False)
    lines = source.split("\n")
    facts = MigrationFacts()
    for call in _operations(tree):
        name = _callee(call)
        line, text = line_of(call.lineno), _source_line(lines, call.lineno)
        model = _str(_arg(call, 0, "model_name")) or _str(_arg(call, 0, "name"))
        if name == "CreateModel":
            facts.ops.append(Op("create_table", line, text, model))
        elif name == "AddField":
            field = _arg(call, 2, "field")
            column = _str(_arg(call, 1, "name"))
            if isinstance(field, ast.Call) and _callee(field) != "ManyToManyField":
                not_null = not _is_const(_kw(field, "null"), True)
                default = _kw(field, "default") is not None or _kw(field, "db_default") is not None
                facts.ops.append(Op("add_column", line, text, model, column, not_null, default))
        elif name == "RemoveField":
            facts.ops.append(Op("drop_column", line, text, model, _str(_arg(call, 1, "name"))))
        elif name == "RenameField":
            facts.ops.append(
                Op("rename_column", line, text, model, _str(_arg(call, 1, "old_name")))
            )
        elif name in ("AddIndex", "AddIndexConcurrently"):
            concurrent = name == "AddIndexConcurrently"
            facts.ops.append(Op("create_index", line, text, model, concurrent=concurrent))
        elif name == "RunSQL":
            facts.ops.extend(_embedded_sql(_arg(call, 0, "sql"), line, in_loop=False))
            if _arg(call, 1, "reverse_sql") is None:
                facts.rollback.append(
                    RollbackIssue(line, text, "missing", "RunSQL without reverse_sql")
                )
        elif name == "RunPython":
            forward = _arg(call, 0, "code")
            if isinstance(forward, ast.Name):
                facts.ops.extend(_django_backfills(tree, forward.id, lines, line_of))
            if _arg(call, 1, "reverse_code") is None:
                facts.rollback.append(
                    RollbackIssue(line, text, "missing", "RunPython without reverse_code")
                )
    return facts
