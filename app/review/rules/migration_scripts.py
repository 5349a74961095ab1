"""Knex-style JavaScript and TypeScript migrations (also TypeORM's `queryRunner.query` and
Sequelize's `queryInterface`), read line by line (whole added files only)."""

from __future__ import annotations

import re
from collections.abc import Callable

from app.review.rules.migration_facts import (
    VOLATILE_CALL,
    MigrationFacts,
    Op,
    RollbackIssue,
)
from app.review.rules.migration_sequelize import sequelize_ops
from app.review.rules.migration_sql import sql_ops

LineMap = Callable[[int], int]  # 0-based line index -> new-file line number


def _at(line: int) -> LineMap:
    """Every line of an embedded SQL string maps to the line that holds it."""
    return lambda _index: line


_JS_DOWN = re.compile(
    r"(exports\.down\s*+=|export\s++(?:async\s++)?function\s++down\b"
    r"|(?:export\s++)?const\s++down\s*+=|^[ \t]*+(?:public\s++)?(?:async\s++)?down\s*+[(:])",
    re.M,
)
_JS_UP = re.compile(
    r"(exports\.up\s*+=|export\s++(?:async\s++)?function\s++up\b"
    r"|(?:export\s++)?const\s++up\s*+=|^[ \t]*+(?:public\s++)?(?:async\s++)?up\s*+[(:])",
    re.M,
)
_JS_TABLE = re.compile(r"\.(createTable|alterTable|table|createTableIfNotExists)\(\s*['\"`](\w+)")
_JS_STR_ARG = re.compile(r"\.(?:raw|query)\(\s*(['\"`])(.*?)\1", re.S)
_JS_TRIVIAL = re.compile(r"^(?>return\s*+(?:Promise\.resolve\(\s*+\))?\s*+;?|//[^\n]*+|\s++)*+$")


def _block(text: str, start: int) -> tuple[int, int]:
    """The span of the first {...} block at or after `start` (brace matching)."""
    open_at = text.find("{", start)
    if open_at < 0:
        return start, start
    depth = 0
    for j in range(open_at, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return open_at + 1, j
    return open_at + 1, len(text)


_NO_TRANSACTION = re.compile(r"\btransaction\s*[:=]\s*false\b")
_JS_SCHEMA = re.compile(r"\.(renameTable|dropTable|dropTableIfExists)\(\s*['\"`](\w+)")
_JS_COLUMN = re.compile(r"\.\w+\(\s*['\"`](\w+)['\"`]")


def _alter_table_line(raw: str, line: int, stripped: str, table: str) -> list[Op]:
    """Ops of one line inside `alterTable('t', (t) => { … })` (a column builder chain)."""
    ops: list[Op] = []
    if m := re.search(r"\.dropColumns?\(\s*['\"`](\w+)", raw):
        ops.append(Op("drop_column", line, stripped, table, m.group(1)))
    if m := re.search(r"\.renameColumn\(\s*['\"`](\w+)", raw):
        ops.append(Op("rename_column", line, stripped, table, m.group(1)))
    col_match = _JS_COLUMN.search(raw)
    col = col_match.group(1) if col_match else None
    default_at = raw.find(".defaultTo(")
    volatile = default_at >= 0 and VOLATILE_CALL.search(raw, default_at) is not None
    if ".alter()" in raw:
        # .alter() restates the type whether or not it changes: a question, not evidence.
        ops.append(Op("alter_type", line, stripped, table, col, unsure=True))
        if ".notNullable()" in raw:
            ops.append(Op("set_not_null", line, stripped, table, col))
    elif ".notNullable()" in raw or volatile:
        not_null = ".notNullable()" in raw
        ops.append(
            Op(
                "add_column",
                line,
                stripped,
                table,
                col,
                not_null,
                default_at >= 0,
                volatile=volatile,
            )
        )
    if ".dropIndex(" in raw:
        ops.append(Op("drop_index", line, stripped, table))
    elif re.search(r"\.index\(|\.unique\(", raw):
        ops.append(Op("create_index", line, stripped, table))
    if re.search(r"\.references\(|\.foreign\(", raw):
        ops.append(Op("add_fk", line, stripped, table))
    return ops


def knex_facts(lines: list[str], line_of: LineMap) -> MigrationFacts:
    text = "\n".join(lines)
    facts = MigrationFacts()
    up = _JS_UP.search(text)
    if up is None:
        return facts
    down = _JS_DOWN.search(text)
    if down is None:
        n = text.count("\n", 0, up.start())
        facts.rollback.append(RollbackIssue(line_of(n), lines[n].strip(), "missing", "down()"))
    else:
        a, b = _block(text, down.end())
        if _JS_TRIVIAL.match(text[a:b]):
            n = text.count("\n", 0, down.start())
            facts.rollback.append(RollbackIssue(line_of(n), lines[n].strip(), "empty", "down()"))
    a, b = _block(text, up.end())
    first = text.count("\n", 0, a)
    body_lines = text[a:b].split("\n")
    table, creating = None, False
    for k, raw in enumerate(body_lines):
        line, stripped = line_of(first + k), raw.strip()
        if m := _JS_SCHEMA.search(raw):
            renamed = m.group(1) == "renameTable"
            facts.ops.append(
                Op("rename_table" if renamed else "drop_table", line, stripped, m.group(2))
            )
        if m := _JS_TABLE.search(raw):
            table, creating = m.group(2), m.group(1).startswith("createTable")
            if creating:
                facts.ops.append(Op("create_table", line, stripped, table))
        if not creating and table:
            facts.ops.extend(_alter_table_line(raw, line, stripped, table))
    for m in _JS_STR_ARG.finditer(text, a, b):
        n = text.count("\n", 0, m.start())
        facts.ops.extend(sql_ops(m.group(2), _at(line_of(n))))
    sequelize = "queryInterface" in text
    if sequelize:
        facts.ops.extend(sequelize_ops(text, a, b, lines, line_of))
    # Knex (`config = { transaction: false }`) and TypeORM (`transaction = false`) run each
    # migration in a transaction unless the file opts out; Sequelize's CLI does not.
    facts.in_transaction(not sequelize and _NO_TRANSACTION.search(text) is None)
    return facts
