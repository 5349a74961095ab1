"""What the Alembic and Django readers share: reading calls and SQL strings with `ast`."""

from __future__ import annotations

import ast
from collections.abc import Callable

from app.review.rules.migration_facts import Op
from app.review.rules.migration_sql import sql_ops

LineMap = Callable[[int], int]  # ast line number (1-based) -> new-file line number


_MAX_REPAIRS = 10
_MAX_REPAIR_SIZE = 200_000  # each repair parses the file again: only for ordinary sizes


def parse_lenient(source: str) -> tuple[ast.Module | None, bool]:
    """(tree, repaired): a file that does not parse (Python 2's `print "…"`, a stray line) is
    parsed again with each offending line replaced by `pass`, at most `_MAX_REPAIRS` times.

    A repaired tree still shows the schema calls around the bad lines; callers must not
    conclude from it that something is missing.
    """
    lines = source.split("\n")
    repairs = _MAX_REPAIRS if len(source) <= _MAX_REPAIR_SIZE else 0
    for attempt in range(repairs + 1):
        try:
            return ast.parse("\n".join(lines)), attempt > 0
        except SyntaxError as error:
            n = (error.lineno or 0) - 1
            if not 0 <= n < len(lines) or lines[n].strip() == "pass":
                break
            lines[n] = lines[n][: len(lines[n]) - len(lines[n].lstrip())] + "pass"
    return None, True


def kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def arg(call: ast.Call, index: int, name: str) -> ast.expr | None:
    """The argument passed at `index` or by keyword `name`."""
    if len(call.args) > index:
        return call.args[index]
    return kw(call, name)


def string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def number(node: ast.expr | None) -> int | None:
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def is_const(node: ast.expr | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def receiver(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id
    return ""


def type_name(node: ast.expr | None) -> str:
    """`String` for `sa.String(40)`, `sa.Text` or `models.CharField(...)`; "" otherwise."""
    if isinstance(node, ast.Call):
        return callee(node)
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def trivial(body: list[ast.stmt]) -> bool:
    return all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in body
    )


def source_line(lines: list[str], lineno: int) -> str:
    return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""


def _sql_strings(node: ast.expr | None) -> list[str]:
    """String SQL passed as a constant, `text("…")`, or a list of those."""
    if node is None:
        return []
    if (s := string(node)) is not None:
        return [s]
    if isinstance(node, ast.Call) and callee(node) == "text" and node.args:
        return _sql_strings(node.args[0])
    if isinstance(node, ast.List | ast.Tuple):
        return [s for elt in node.elts for s in _sql_strings(elt)]
    return []


def embedded_sql(node: ast.expr | None, line: int, in_loop: bool) -> list[Op]:
    """The ops of SQL passed as a string; all of them sit on the call's `line`."""
    ops: list[Op] = []
    for sql in _sql_strings(node):
        for op in sql_ops(sql, lambda _i: line):
            if op.kind == "update" and in_loop:
                op = Op(**{**op.__dict__, "batched": True})
            ops.append(op)
    return ops
