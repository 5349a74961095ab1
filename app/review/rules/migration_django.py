"""Django migrations, read with `ast`: the `operations` list of the `Migration` class.

Django's implied defaults decide whether a new NOT NULL column has a value for existing rows:
`null=True`, `default=` (makemigrations writes the one-off default with
`preserve_default=False`), `db_default=`, `auto_now`/`auto_now_add`, and `blank=True` on a
field that stores strings (Django fills existing rows with "" and never asks for a default).
An `AlterField` states only the new field; whether it tightens NULL or changes the type is
judged against the model's old declaration (`migration_models`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.review.rules.migration_facts import FieldSpec, MigrationFacts, Op, RollbackIssue
from app.review.rules.migration_python import (
    LineMap,
    arg,
    callee,
    embedded_sql,
    is_const,
    kw,
    number,
    parse_lenient,
    source_line,
    string,
)

# Fields without empty strings: `blank=True` gives them no value for existing rows.
_NO_EMPTY_STRING = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "FloatField",
        "DecimalField",
        "BooleanField",
        "NullBooleanField",
        "DateField",
        "DateTimeField",
        "TimeField",
        "DurationField",
        "UUIDField",
        "JSONField",
        "GenericIPAddressField",
        "ForeignKey",
        "OneToOneField",
    }
)
_GENERATED = frozenset({"AutoField", "BigAutoField", "SmallAutoField", "GeneratedField"})


def field_spec(field: ast.Call) -> FieldSpec:
    return FieldSpec(
        callee(field),
        is_const(kw(field, "null"), True),
        number(kw(field, "max_length")),
        unique=is_const(kw(field, "unique"), True),
        db_index=is_const(kw(field, "db_index"), True),
    )


def has_implied_default(field: ast.Call) -> bool:
    """Whether Django gives existing rows a value when this field is added NOT NULL."""
    name = callee(field)
    if name in _GENERATED or is_const(kw(field, "primary_key"), True):
        return True
    if kw(field, "default") is not None or kw(field, "db_default") is not None:
        return True
    if is_const(kw(field, "auto_now"), True) or is_const(kw(field, "auto_now_add"), True):
        return True
    return is_const(kw(field, "blank"), True) and name not in _NO_EMPTY_STRING


def _atomic(tree: ast.Module) -> bool:
    """Whether the migration runs in one transaction (Django's default; `atomic = False`)."""
    for cls in tree.body:
        if isinstance(cls, ast.ClassDef) and cls.name == "Migration":
            for stmt in cls.body:
                if (
                    isinstance(stmt, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "atomic" for t in stmt.targets)
                    and is_const(stmt.value, False)
                ):
                    return False
    return True


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


def _backfills(tree: ast.Module, func_name: str, lines: list[str], line_of: LineMap) -> list[Op]:
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
        if isinstance(node, ast.Call) and callee(node) == "update":
            chain = ast.unparse(node.func)
            if "objects" not in chain and "filter" not in chain and "all()" not in chain:
                continue
            filtered = ".filter(" in chain or ".exclude(" in chain
            batched = id(node) in in_loop or "[" in chain  # sliced querysets are batches
            ops.append(
                Op(
                    "update",
                    line_of(node.lineno),
                    source_line(lines, node.lineno),
                    filtered=filtered,
                    batched=batched,
                )
            )
    return ops


_SIMPLE = {
    "CreateModel": ("create_table", "name"),
    "DeleteModel": ("drop_table", "name"),
    "RenameModel": ("rename_table", "old_name"),
    "AlterModelTable": ("rename_table", "name"),
}


def _schema_op(call: ast.Call, name: str, line: int, text: str) -> list[Op]:
    model = string(arg(call, 0, "model_name")) or string(arg(call, 0, "name"))
    if name in _SIMPLE:
        kind, key = _SIMPLE[name]
        return [Op(kind, line, text, string(arg(call, 0, key)))]  # type: ignore[arg-type]
    field = arg(call, 2, "field")
    column = string(arg(call, 1, "name"))
    if name == "AddField" and isinstance(field, ast.Call) and callee(field) != "ManyToManyField":
        not_null = not is_const(kw(field, "null"), True)
        default = has_implied_default(field)
        return [Op("add_column", line, text, model, column, not_null, default)]
    if name == "AlterField" and isinstance(field, ast.Call):
        return [Op("alter_field", line, text, model, column, field=field_spec(field))]
    if name == "RemoveField":
        return [Op("drop_column", line, text, model, column)]
    if name == "RenameField":
        return [Op("rename_column", line, text, model, string(arg(call, 1, "old_name")))]
    if name in ("AddIndex", "AddIndexConcurrently", "RemoveIndex", "RemoveIndexConcurrently"):
        kind = "create_index" if name.startswith("Add") else "drop_index"
        concurrent = name.endswith("Concurrently")
        return [Op(kind, line, text, model, concurrent=concurrent)]  # type: ignore[arg-type]
    if name == "AddConstraint":
        constraint = arg(call, 1, "constraint")
        kind = callee(constraint) if isinstance(constraint, ast.Call) else ""
        if kind == "UniqueConstraint":
            return [Op("add_unique", line, text, model)]
        if kind == "CheckConstraint":
            return [Op("add_check", line, text, model)]
    return []


def django_facts(source: str, line_of: LineMap) -> MigrationFacts:
    tree, repaired = parse_lenient(source)
    if tree is None:
        return MigrationFacts(parsed=False)
    lines = source.split("\n")
    facts = MigrationFacts()
    for call in _operations(tree):
        name = callee(call)
        line, text = line_of(call.lineno), source_line(lines, call.lineno)
        facts.ops.extend(_schema_op(call, name, line, text))
        if name == "RunSQL":
            facts.ops.extend(embedded_sql(arg(call, 0, "sql"), line, in_loop=False))
            if arg(call, 1, "reverse_sql") is None and not repaired:
                facts.rollback.append(
                    RollbackIssue(line, text, "missing", "RunSQL without reverse_sql")
                )
        elif name == "RunPython":
            forward = arg(call, 0, "code")
            if isinstance(forward, ast.Name):
                facts.ops.extend(_backfills(tree, forward.id, lines, line_of))
            if arg(call, 1, "reverse_code") is None and not repaired:
                facts.rollback.append(
                    RollbackIssue(line, text, "missing", "RunPython without reverse_code")
                )
    facts.in_transaction(_atomic(tree))
    return facts
