"""Sequelize migrations: `queryInterface.<verb>('table', …)` calls in the `up` body.

A call's options object follows its name on the next lines (`allowNull: false`,
`defaultValue`, `concurrently: true`, `type: 'unique'`); at most `_OPTIONS` characters after
the call are read for them, and never past the next call.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.review.rules.migration_facts import VOLATILE_CALL, Op, OpKind

LineMap = Callable[[int], int]  # 0-based line index -> new-file line number

_OPTIONS = 600
# renameTable / dropTable / createTable are read with Knex's (same names, same shape).
_CALL = re.compile(
    r"\b\w+\.(addColumn|removeColumn|renameColumn|changeColumn|addIndex|removeIndex"
    r"|addConstraint)\(\s*(['\"`])(\w+)\2"
    r"(?:\s*,\s*(['\"`])(\w+)\4)?"
)
_SIMPLE: dict[str, OpKind] = {"removeColumn": "drop_column", "renameColumn": "rename_column"}
_NOT_NULL = re.compile(r"\ballowNull\s*:\s*false\b")
_CONCURRENT = re.compile(r"\bconcurrently\s*:\s*true\b")
_CONSTRAINTS: dict[str, OpKind] = {
    "unique": "add_unique",
    "check": "add_check",
    "foreign key": "add_fk",
}
_CONSTRAINT = re.compile(r"\btype\s*:\s*['\"`](unique|check|foreign key)['\"`]", re.I)


def _op(verb: str, table: str, column: str | None, options: str, line: int, text: str) -> list[Op]:
    if verb in _SIMPLE:
        return [Op(_SIMPLE[verb], line, text, table, column)]
    not_null = _NOT_NULL.search(options) is not None
    if verb == "addColumn":
        default_at = options.find("defaultValue")
        volatile = default_at >= 0 and VOLATILE_CALL.search(options, default_at) is not None
        has_default = default_at >= 0 or "autoIncrement" in options
        return [
            Op("add_column", line, text, table, column, not_null, has_default, volatile=volatile)
        ]
    if verb == "changeColumn":
        # changeColumn restates the whole column: its type may or may not change.
        ops = [Op("alter_type", line, text, table, column, unsure=True)]
        return ops + ([Op("set_not_null", line, text, table, column)] if not_null else [])
    if verb in ("addIndex", "removeIndex"):
        kind: OpKind = "create_index" if verb == "addIndex" else "drop_index"
        return [Op(kind, line, text, table, concurrent=_CONCURRENT.search(options) is not None)]
    constraint = _CONSTRAINT.search(options)
    kinds: dict[str, OpKind] = {
        "unique": "add_unique",
        "check": "add_check",
        "foreign key": "add_fk",
    }
    if constraint is None:
        return []
    return [Op(kinds[constraint.group(1).lower()], line, text, table)]


def sequelize_ops(text: str, start: int, end: int, lines: list[str], line_of: LineMap) -> list[Op]:
    """Ops of the `queryInterface` calls between `start` and `end` (the `up` body) of `text`."""
    calls = list(_CALL.finditer(text, start, end))
    ops: list[Op] = []
    for i, m in enumerate(calls):
        stop = min(m.end() + _OPTIONS, calls[i + 1].start() if i + 1 < len(calls) else end)
        n = text.count("\n", 0, m.start())
        line = line_of(n)
        options = text[m.end() : stop]
        ops += _op(m.group(1), m.group(3), m.group(5), options, line, lines[n].strip())
    return ops
