"""Token-level reading of SQL migrations: statements, then the hazards we look for.

Not a SQL parser: comments and quoted text are blanked, statements split on top-level ";",
and each statement matched against the few shapes that matter for lock and rewrite hazards.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from app.review.rules.migration_facts import Op

_WS = re.compile(r"\s+")
_NAME = r"((?:\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|[\w$]+)(?:\.(?:\"[^\"]+\"|`[^`]+`|[\w$]+))?)"
_PG_ONLY = re.compile(
    r"\bCONCURRENTLY\b|\bNOT VALID\b|\bJSONB\b|\bTIMESTAMPTZ\b|::\w|\bB?I?G?SERIAL\b"
    r"|\bUSING (GIN|GIST|BRIN)\b|\bgen_random_uuid\b",
    re.I,
)
_CREATE_TABLE = re.compile(
    rf"^CREATE (?:UNLOGGED |TEMP |TEMPORARY )?TABLE (?:IF NOT EXISTS )?{_NAME}", re.I
)
_CREATE_INDEX = re.compile(
    rf"^CREATE (?:UNIQUE )?INDEX (CONCURRENTLY )?(?:IF NOT EXISTS )?(?:{_NAME} )?"
    rf"ON (?:ONLY )?{_NAME}",
    re.I,
)
_ALTER = re.compile(rf"^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?{_NAME} (.*)$", re.I | re.S)
# A pattern that reads SQL, not a query built from input.
_UPDATE = re.compile(
    rf"^UPDATE (?:ONLY )?{_NAME}(?: AS \w+| (?!SET\b)\w+)? SET (.*)$",  # noqa: S608
    re.I | re.S,
)
_BATCH = re.compile(r"\bLIMIT\b|\bBETWEEN\b|\bctid\b|\bid\s*[<>]=?\s*[\d:%$]", re.I)
_ONE_ROW = re.compile(r"\bWHERE (?:\w+\.)?\w*id\s*=\s*(?:\d+|'[^']*'|:\w+|%s|\$\d)\s*$", re.I)
_CONSTRAINT_WORDS = ("CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "EXCLUDE", "INDEX")


def statements(sql: str) -> Iterator[tuple[int, str]]:
    """(0-based line of the statement's first token, statement text) with comments and
    quoted contents blanked out, so keywords inside strings do not count."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", sql[i:j]))
            i = j
        elif c == "'":
            j = i + 1
            while j < n and not (sql[j] == "'" and not sql.startswith("''", j)):
                j += 2 if sql.startswith("''", j) else 1
            out.append("'" + re.sub(r"[^\n]", "x", sql[i + 1 : j]) + "'")
            i = j + 1
        else:
            out.append(c)
            i += 1
    blanked = "".join(out)
    offset = 0
    for chunk in blanked.split(";"):
        stripped = chunk.lstrip()
        if stripped:
            start = offset + (len(chunk) - len(stripped))
            yield blanked.count("\n", 0, start), chunk.strip()
        offset += len(chunk) + 1


def _split_actions(rest: str) -> list[str]:
    depth = 0
    current: list[str] = []
    parts: list[str] = []
    for ch in rest:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _alter_ops(table: str, stmt: str, rest: str, line: int, text: str) -> Iterator[Op]:
    upper_stmt = stmt.upper()
    not_valid = "NOT VALID" in upper_stmt
    pg = bool(_PG_ONLY.search(stmt))
    for action in _split_actions(rest):
        up = action.upper()
        if up.startswith("ADD ") and not up.split()[1].startswith(_CONSTRAINT_WORDS):
            m = re.match(rf"ADD (?:COLUMN )?(?:IF NOT EXISTS )?{_NAME}", action, re.I)
            column = m.group(1) if m else None
            yield Op(
                "add_column",
                line,
                text,
                table,
                column,
                not_null="NOT NULL" in up or "PRIMARY KEY" in up,
                has_default=" DEFAULT " in f" {up} " or "GENERATED " in up,
                postgres=pg,
            )
            if "REFERENCES" in up:
                yield Op("add_fk", line, text, table, column, not_valid=not_valid, postgres=pg)
        elif up.startswith("ADD ") and "FOREIGN KEY" in up:
            yield Op("add_fk", line, text, table, not_valid=not_valid, postgres=pg)
        elif re.match(r"DROP (COLUMN )?(?!CONSTRAINT\b|INDEX\b|PRIMARY\b|DEFAULT\b)", up):
            m = re.match(rf"DROP (?:COLUMN )?(?:IF EXISTS )?{_NAME}", action, re.I)
            yield Op("drop_column", line, text, table, m.group(1) if m else None, postgres=pg)
        elif re.match(r"RENAME (COLUMN )?(?!TO\b|CONSTRAINT\b)", up):
            m = re.match(rf"RENAME (?:COLUMN )?{_NAME} TO", action, re.I)
            yield Op("rename_column", line, text, table, m.group(1) if m else None, postgres=pg)
        elif re.match(r"(ALTER (COLUMN )?\S+ (SET DATA )?TYPE |MODIFY |CHANGE )", up):
            m = re.match(rf"(?:ALTER|MODIFY|CHANGE) (?:COLUMN )?{_NAME}", action, re.I)
            yield Op("alter_type", line, text, table, m.group(1) if m else None, postgres=pg)


def sql_ops(
    sql: str, line_of: Callable[[int], int], source_lines: list[str] | None = None
) -> list[Op]:
    """Ops in `sql`; `line_of` maps a 0-based line within `sql` to a new-file line number."""
    raw_lines = source_lines if source_lines is not None else sql.split("\n")
    ops: list[Op] = []
    for index, stmt in statements(sql):
        flat = _WS.sub(" ", stmt)
        line = line_of(index)
        text = raw_lines[index].strip() if index < len(raw_lines) else flat
        pg = bool(_PG_ONLY.search(flat))
        if m := _CREATE_TABLE.match(flat):
            ops.append(Op("create_table", line, text, m.group(1), postgres=pg))
        elif m := _CREATE_INDEX.match(flat):
            ops.append(
                Op("create_index", line, text, m.group(3), concurrent=bool(m.group(1)), postgres=pg)
            )
        elif m := _ALTER.match(flat):
            ops.extend(_alter_ops(m.group(1), flat, m.group(2), line, text))
        elif m := _UPDATE.match(flat):
            where = re.search(r"\bWHERE\b.*$", flat, re.I)
            one_row = bool(where and _ONE_ROW.search(where.group(0)))
            ops.append(
                Op(
                    "update",
                    line,
                    text,
                    m.group(1),
                    filtered=where is not None,
                    batched=one_row or bool(where and _BATCH.search(where.group(0))),
                    postgres=pg,
                )
            )
    return ops
