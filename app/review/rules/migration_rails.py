"""Rails migrations, read line by line (whole added files only).

Rails' implied behaviour: `add_reference` / `t.references` add an index unless `index: false`;
`add_column … null: false, default: x` fills existing rows (no rewrite on PostgreSQL 11+) unless
the default is a lambda (SQL computed per row); `change` must be reversible on its own, so
`execute` and `change_column` there need `reversible` or `def down`. A call's options may run on
over a few lines (`add_column :t, :c, :string,\\n  null: false`): lines ending in "," or "(" are
joined with the next ones, at most `_JOIN` of them. Steps inside strong_migrations'
`safety_assured do … end` were checked by a person: their lock hazards are not repeated.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.review.rules.migration_facts import VOLATILE_CALL, MigrationFacts, Op, RollbackIssue
from app.review.rules.migration_sql import sql_ops

LineMap = Callable[[int], int]  # 0-based line index -> new-file line number

_JOIN = 6
_SYM = r"[:\"']?(\w++)[\"']?"
_DEF = re.compile(r"^\s*def (?:self\.)?(\w+)")
# Blank runs are possessive: `[ (]\s*` and `\s*,\s*` could split one run many ways.
_CALL = re.compile(r"^\s*+(\w+)[ (]\s*+" + _SYM + r"(?:\s*+,\s*+" + _SYM + r")?")
_T_CALL = re.compile(r"^\s*+\w++\.(\w+)[ (]\s*+" + _SYM + r"(?:\s*+,\s*+" + _SYM + r")?")
_CHANGE_TABLE = re.compile(r"^(\s*+)change_table\s*+\(?\s*+" + _SYM)
_EXECUTE = re.compile(
    r"^\s*+execute\s*+\(?\s*+(<<[~-]?['\"]?(\w+)['\"]?|[\"'](.*)[\"']\s*+\)?\s*+$)"
)
_NO_TRANSACTION = re.compile(r"^\s*+disable_ddl_transaction!")
_UPDATE_ALL = re.compile(r"\.update_all\s*\(")
_NO_INDEX = re.compile(r"\bindex:\s*false")
_CONCURRENTLY = "algorithm: :concurrently"
_NULL_FALSE = re.compile(r"\bnull:\s*false")
_TABLE_ONLY = {"create_table": "create_table", "drop_table": "drop_table"}
_COLUMN_CALLS = {
    "remove_column": "drop_column",
    "rename_column": "rename_column",
    "change_column": "alter_type",
}
# The same verbs inside `change_table :t do |t|`, and the column types `t.<type> :name` adds.
_BLOCK_CALLS = {"remove": "drop_column", "rename": "rename_column", "change": "alter_type"}
_COLUMN_TYPES = frozenset(
    {
        "column",
        "string",
        "text",
        "integer",
        "bigint",
        "smallint",
        "float",
        "decimal",
        "numeric",
        "boolean",
        "date",
        "datetime",
        "time",
        "timestamp",
        "timestamptz",
        "binary",
        "json",
        "jsonb",
        "uuid",
        "citext",
        "inet",
        "enum",
    }
)


def _at(line: int) -> LineMap:
    """Every line of an embedded SQL string maps to the line that holds it."""
    return lambda _index: line


def _joined(lines: list[str], i: int) -> tuple[int, str]:
    """(last index, text) of the call starting at line `i`, with its continuation lines."""
    text, j = lines[i], i
    while text.rstrip().endswith((",", "(")) and j + 1 < len(lines) and j - i < _JOIN:
        j += 1
        text = text.rstrip() + " " + lines[j].strip()
    return j, text


def _indent(raw: str) -> int:
    return len(raw) - len(raw.lstrip())


def _has(text: str, pattern: re.Pattern[str]) -> bool:
    return pattern.search(text) is not None


def _add_column(text: str, line: int, table: str, column: str) -> Op:
    lam = text.find("default: ->")
    volatile = lam >= 0 and _has(text[lam:], VOLATILE_CALL)
    default = "default:" in text
    not_null = _has(text, _NULL_FALSE)
    return Op("add_column", line, text.strip(), table, column, not_null, default, volatile=volatile)


def _reference(text: str, line: int, table: str) -> list[Op]:
    ops = []
    if not _has(text, _NO_INDEX):
        ops.append(Op("create_index", line, text.strip(), table, concurrent=_CONCURRENTLY in text))
    if re.search(r"foreign_key:\s*(?!false)", text):
        not_valid = _has(text, re.compile(r"validate:\s*false"))
        ops.append(Op("add_fk", line, text.strip(), table, not_valid=not_valid))
    return ops


def _call_ops(name: str, a: str, b: str | None, text: str, line: int) -> list[Op]:
    """Ops of a top-level call `name :a, :b, …`."""
    stripped = text.strip()
    if name in _TABLE_ONLY:
        return [Op(_TABLE_ONLY[name], line, stripped, a)]  # type: ignore[arg-type]
    if name == "rename_table":
        return [Op("rename_table", line, stripped, a)]
    if name in _COLUMN_CALLS:
        return [Op(_COLUMN_CALLS[name], line, stripped, a, b)]  # type: ignore[arg-type]
    if name == "add_column" and b:
        return [_add_column(text, line, a, b)]
    if name == "change_column_null" and re.search(r",\s*false\b", text):
        return [Op("set_not_null", line, stripped, a, b)]
    if name in ("add_index", "remove_index"):
        kind = "create_index" if name == "add_index" else "drop_index"
        return [Op(kind, line, stripped, a, concurrent=_CONCURRENTLY in text)]  # type: ignore[arg-type]
    if name == "add_foreign_key":
        not_valid = _has(text, re.compile(r"validate:\s*false"))
        return [Op("add_fk", line, stripped, a, not_valid=not_valid)]
    if name in ("add_reference", "add_belongs_to"):
        return _reference(text, line, a)
    if name == "add_unique_constraint" and "using_index:" not in text:
        return [Op("add_unique", line, stripped, a)]
    if name == "add_check_constraint":
        not_valid = _has(text, re.compile(r"validate:\s*false"))
        return [Op("add_check", line, stripped, a, not_valid=not_valid)]
    if name in ("validate_check_constraint", "validate_foreign_key"):
        return [Op("validate", line, stripped, a)]
    return []


def _block_ops(name: str, a: str, b: str | None, text: str, line: int, table: str) -> list[Op]:
    """Ops of `t.name :a, …` inside `change_table :table`."""
    stripped = text.strip()
    if name in _BLOCK_CALLS:
        return [Op(_BLOCK_CALLS[name], line, stripped, table, a)]  # type: ignore[arg-type]
    if name == "index":
        return [Op("create_index", line, stripped, table, concurrent=_CONCURRENTLY in text)]
    if name == "remove_index":
        return [Op("drop_index", line, stripped, table, concurrent=_CONCURRENTLY in text)]
    if name in ("references", "belongs_to"):
        return _reference(text, line, table)
    if name == "change_null" and re.search(r",\s*false\b", text):
        return [Op("set_not_null", line, stripped, table, a)]
    if name in _COLUMN_TYPES:
        return [_add_column(text, line, table, a)]  # t.string :name, null: false
    return []


def rails_facts(lines: list[str], line_of: LineMap) -> MigrationFacts:
    facts = MigrationFacts()
    defs: dict[str, int] = {}
    current = ""
    heredoc: tuple[str, int, list[str], bool] | None = None  # end word, line, body, assured
    change_irreversible: list[tuple[int, str]] = []
    has_reversible = False
    block: tuple[str, int] | None = None  # change_table's table and indentation
    assured: int | None = None  # indentation of an open `safety_assured do`
    i = -1
    while i + 1 < len(lines):
        i += 1
        raw = lines[i]
        if heredoc is not None:  # heredoc bodies are read raw: no joining of lines
            end, start, body, quiet = heredoc
            if raw.strip() == end:
                if current != "down" and not quiet:
                    facts.ops.extend(sql_ops("\n".join(body), _at(line_of(start))))
                heredoc = None
            else:
                body.append(raw)
            continue
        first = i
        i, raw = _joined(lines, i)
        if m := _DEF.match(raw):
            current = m.group(1)
            defs.setdefault(current, first)
            continue
        if current == "down":
            continue
        line, text = line_of(first), raw.strip()
        has_reversible = has_reversible or "reversible do" in raw
        if assured is not None and text == "end" and _indent(raw) <= assured:
            assured = None
            continue
        if text.startswith("safety_assured"):
            # strong_migrations' "a person checked this": its lock hazards are not ours to repeat.
            if text.endswith(" do"):
                assured = _indent(raw)
            continue
        quiet = assured is not None
        if block is not None:
            if text == "end" and _indent(raw) <= block[1]:
                block = None
            elif (m := _T_CALL.match(raw)) and not quiet:
                facts.ops.extend(
                    _block_ops(m.group(1), m.group(2), m.group(3), raw, line, block[0])
                )
            continue
        if m := _CHANGE_TABLE.match(raw):
            block = (m.group(2), len(m.group(1)))
        elif m := _EXECUTE.match(raw):
            if current == "change":
                change_irreversible.append((line, text))
            if m.group(2):
                heredoc = (m.group(2), first, [], quiet)
            elif m.group(3) and not quiet:
                facts.ops.extend(sql_ops(m.group(3), _at(line)))
        elif _UPDATE_ALL.search(raw) and not quiet:
            batched = bool(re.search(r"in_batches|find_each|find_in_batches|\.limit\(", raw))
            filtered = ".where(" in raw
            facts.ops.append(Op("update", line, text, filtered=filtered, batched=batched))
        elif m := _CALL.match(raw):
            ops = _call_ops(m.group(1), m.group(2), m.group(3), raw, line)
            if not quiet:
                facts.ops.extend(ops)
            if current == "change" and any(op.kind == "alter_type" for op in ops):
                change_irreversible.append((line, text))
    _rollback(facts, defs, lines, line_of, change_irreversible, has_reversible)
    # Each migration runs in a transaction unless the class says disable_ddl_transaction!.
    facts.in_transaction(not any(_NO_TRANSACTION.match(raw) for raw in lines))
    return facts


def _rollback(
    facts: MigrationFacts,
    defs: dict[str, int],
    lines: list[str],
    line_of: LineMap,
    change_irreversible: list[tuple[int, str]],
    has_reversible: bool,
) -> None:
    if "up" in defs and "down" not in defs:
        up = defs["up"]
        facts.rollback.append(RollbackIssue(line_of(up), lines[up].strip(), "missing", "def down"))
    elif "change" in defs and "down" not in defs and not has_reversible and change_irreversible:
        line, text = change_irreversible[0]
        facts.rollback.append(
            RollbackIssue(
                line, text, "missing", "def down (this step is not reversible in `change`)"
            )
        )
