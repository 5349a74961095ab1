"""Rails and Knex-style JavaScript migrations, read line by line (whole added files only)."""

from __future__ import annotations

import re
from collections.abc import Callable

from app.review.rules.migration_facts import MigrationFacts, Op, RollbackIssue
from app.review.rules.migration_sql import sql_ops

LineMap = Callable[[int], int]  # 0-based line index -> new-file line number


def _at(line: int) -> LineMap:
    """Every line of an embedded SQL string maps to the line that holds it."""
    return lambda _index: line


_RB_SYM = r"[:\"']?(\w++)[\"']?"
_RB_DEF = re.compile(r"^\s*+def (\w+)")
# Whitespace runs are possessive: `\s*\(?\s*` could split one run two ways, quadratically.
_RB_ADD_COLUMN = re.compile(rf"^\s*+add_column\s*+\(?\s*+{_RB_SYM}\s*+,\s*+{_RB_SYM}")
_RB_SIMPLE = {
    "remove_column": "drop_column",
    "rename_column": "rename_column",
    "change_column": "alter_type",
}
_RB_TABLE_COL = re.compile(
    rf"^\s*+(remove_column|rename_column|change_column)\s*+\(?\s*+{_RB_SYM}\s*+,\s*+{_RB_SYM}"
)
_RB_CREATE = re.compile(rf"^\s*+create_table\s*+\(?\s*+{_RB_SYM}")
_RB_INDEX = re.compile(rf"^\s*+add_index\s*+\(?\s*+{_RB_SYM}")
_RB_FK = re.compile(rf"^\s*+add_foreign_key\s*+\(?\s*+{_RB_SYM}")
_RB_REF = re.compile(
    rf"^\s*+add_(?:reference|belongs_to)\s*+\(?\s*+{_RB_SYM}.*foreign_key:\s*+(?!false)"
)
_RB_EXECUTE = re.compile(
    r"^\s*+execute\s*+\(?\s*+(<<[~-]?['\"]?(\w+)['\"]?|[\"'](.*)[\"']\s*+\)?\s*+$)"
)
_RB_UPDATE_ALL = re.compile(r"\.update_all\s*\(")


def rails_facts(lines: list[str], line_of: LineMap) -> MigrationFacts:
    facts = MigrationFacts()
    defs: dict[str, int] = {}
    current = ""
    heredoc: tuple[str, int, list[str]] | None = None
    change_irreversible: list[tuple[int, str]] = []
    has_reversible = False
    for i, raw in enumerate(lines):
        if heredoc is not None:
            end, start, body = heredoc
            if raw.strip() == end:
                if current != "down":
                    facts.ops.extend(sql_ops("\n".join(body), _at(line_of(start))))
                heredoc = None
            else:
                body.append(raw)
            continue
        if m := _RB_DEF.match(raw):
            current = m.group(1)
            defs.setdefault(current, i)
            continue
        if current == "down":
            continue
        line, text = line_of(i), raw.strip()
        has_reversible = has_reversible or "reversible do" in raw
        if m := _RB_CREATE.match(raw):
            facts.ops.append(Op("create_table", line, text, m.group(1)))
        elif m := _RB_ADD_COLUMN.match(raw):
            not_null = bool(re.search(r"null:\s*false", raw))
            default = bool(re.search(r"default:", raw))
            facts.ops.append(
                Op("add_column", line, text, m.group(1), m.group(2), not_null, default)
            )
        elif m := _RB_TABLE_COL.match(raw):
            kind = _RB_SIMPLE[m.group(1)]
            facts.ops.append(Op(kind, line, text, m.group(2), m.group(3)))  # type: ignore[arg-type]
            if kind == "alter_type" and current == "change":
                change_irreversible.append((line, text))
        elif m := _RB_INDEX.match(raw):
            concurrent = "algorithm: :concurrently" in raw
            facts.ops.append(Op("create_index", line, text, m.group(1), concurrent=concurrent))
        elif (m := _RB_FK.match(raw)) or (m := _RB_REF.match(raw)):
            not_valid = bool(re.search(r"validate:\s*false", raw))
            facts.ops.append(Op("add_fk", line, text, m.group(1), not_valid=not_valid))
        elif m := _RB_EXECUTE.match(raw):
            if current == "change":
                change_irreversible.append((line, text))
            if m.group(2):
                heredoc = (m.group(2), i, [])
            elif m.group(3):
                facts.ops.extend(sql_ops(m.group(3), _at(line)))
        elif _RB_UPDATE_ALL.search(raw):
            batched = bool(re.search(r"in_batches|find_each|find_in_batches|\.limit\(", raw))
            filtered = ".where(" in raw
            facts.ops.append(Op("update", line, text, filtered=filtered, batched=batched))
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
    return facts


_JS_DOWN = re.compile(
    r"(exports\.down\s*+=|export\s++(?:async\s++)?function\s++down\b|export\s++const\s++down\s*+=|"
    r"^[ \t]*+(?:public\s++)?(?:async\s++)?down\s*+[(:])",
    re.M,
)
_JS_UP = re.compile(
    r"(exports\.up\s*+=|export\s++(?:async\s++)?function\s++up\b|export\s++const\s++up\s*+=|"
    r"^[ \t]*+(?:public\s++)?(?:async\s++)?up\s*+[(:])",
    re.M,
)
_JS_TABLE = re.compile(r"\.(createTable|alterTable|table|createTableIfNotExists)\(\s*['\"`](\w+)")
_JS_STR_ARG = re.compile(r"\.(?:raw|query)\(\s*(['\"`])(.*?)\1", re.S)
# Each piece is atomic and the repetition possessive: `(//.*|...)*` could split a run of "//"
# into comments in exponentially many ways before failing (21 "//" took 98 s).
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
        if m := _JS_TABLE.search(raw):
            table, creating = m.group(2), m.group(1).startswith("createTable")
            if creating:
                facts.ops.append(Op("create_table", line, stripped, table))
        if not creating and table:
            if m := re.search(r"\.dropColumns?\(\s*['\"`](\w+)", raw):
                facts.ops.append(Op("drop_column", line, stripped, table, m.group(1)))
            if m := re.search(r"\.renameColumn\(\s*['\"`](\w+)", raw):
                facts.ops.append(Op("rename_column", line, stripped, table, m.group(1)))
            col = re.search(r"\.\w+\(\s*['\"`](\w+)['\"`]", raw)
            if ".alter()" in raw:
                facts.ops.append(
                    Op("alter_type", line, stripped, table, col.group(1) if col else None)
                )
            elif ".notNullable()" in raw:
                default = ".defaultTo(" in raw
                facts.ops.append(
                    Op(
                        "add_column",
                        line,
                        stripped,
                        table,
                        col.group(1) if col else None,
                        True,
                        default,
                    )
                )
            if re.search(r"\.index\(|\.unique\(", raw):
                facts.ops.append(Op("create_index", line, stripped, table))
            if re.search(r"\.references\(|\.foreign\(", raw):
                facts.ops.append(Op("add_fk", line, stripped, table))
    for m in _JS_STR_ARG.finditer(text, a, b):
        n = text.count("\n", 0, m.start())
        facts.ops.extend(sql_ops(m.group(2), _at(line_of(n))))
    return facts
