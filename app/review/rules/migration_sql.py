"""Token-level reading of SQL migrations: statements, then the hazards we look for.

Not a SQL parser: comments and quoted text are blanked, statements split on top-level ";",
and each statement matched against the few shapes that matter for lock and rewrite hazards.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace

from app.review.rules.migration_facts import REWRITE_TYPE, VOLATILE_CALL, Op

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


_ADD_COLUMN = re.compile(rf"ADD (?:COLUMN )?(?:IF NOT EXISTS )?{_NAME}", re.I)
_DROP_COLUMN = re.compile(
    r"DROP (?:COLUMN )?(?!CONSTRAINT\b|INDEX\b|KEY\b|PRIMARY\b|FOREIGN\b|DEFAULT\b)"
)
_RENAME_COLUMN = re.compile(r"RENAME (?:COLUMN )?(?!TO\b|CONSTRAINT\b|INDEX\b|KEY\b)")
_ALTER_COLUMN = re.compile(rf"(?:ALTER|MODIFY|CHANGE) (?:COLUMN )?{_NAME} ?(.*)$", re.I | re.S)
_SET_TYPE = re.compile(r"(?:SET DATA )?TYPE ([\w ]+?)(\(|$| USING\b| COLLATE\b)", re.I)
# A new type every old value fits without a rewrite on PostgreSQL when it widens a varchar (the
# old type is not in the migration): worth a question, not an assertion.
_WIDE_TYPES = frozenset({"text", "citext", "varchar", "character varying"})


def _add_column(action: str, up: str, table: str, line: int, text: str, pg: bool) -> Op:
    m = _ADD_COLUMN.match(action)
    default_at = f" {up} ".find(" DEFAULT ")
    volatile = bool(
        (default_at >= 0 and VOLATILE_CALL.search(action, default_at))
        or REWRITE_TYPE.search(action)
    )
    return Op(
        "add_column",
        line,
        text,
        table,
        m.group(1) if m else None,
        not_null="NOT NULL" in up or "PRIMARY KEY" in up,
        has_default=" DEFAULT " in f" {up} " or "GENERATED " in up or "SERIAL" in up,
        postgres=pg,
        volatile=volatile,
    )


def _alter_column(action: str, table: str, line: int, text: str, pg: bool) -> Iterator[Op]:
    m = _ALTER_COLUMN.match(action)
    if m is None:
        return
    column, rest = m.group(1), m.group(2).upper()
    if action[:6].upper() != "ALTER ":  # MySQL MODIFY / CHANGE restate the whole column
        yield Op("alter_type", line, text, table, column, postgres=pg)
        return
    if rest.startswith("SET NOT NULL"):
        yield Op("set_not_null", line, text, table, column, postgres=pg)
    elif t := _SET_TYPE.match(rest):
        new_type = " ".join(t.group(1).lower().split())
        unsure = new_type in _WIDE_TYPES and t.group(2).strip() != "USING"
        yield Op("alter_type", line, text, table, column, postgres=pg, unsure=unsure)


def _alter_ops(table: str, stmt: str, rest: str, line: int, text: str) -> Iterator[Op]:
    upper_stmt = stmt.upper()
    not_valid = "NOT VALID" in upper_stmt
    pg = bool(_PG_ONLY.search(stmt))
    for action in _split_actions(rest):
        up = action.upper()
        if up.startswith("ADD ") and not up.split()[1].startswith(_CONSTRAINT_WORDS):
            op = _add_column(action, up, table, line, text, pg)
            yield op
            if "REFERENCES" in up:
                yield Op("add_fk", line, text, table, op.column, not_valid=not_valid, postgres=pg)
        elif up.startswith("ADD ") and "FOREIGN KEY" in up:
            yield Op("add_fk", line, text, table, not_valid=not_valid, postgres=pg)
        elif up.startswith("ADD ") and " CHECK" in up:
            yield Op("add_check", line, text, table, not_valid=not_valid, postgres=pg)
        elif up.startswith("ADD ") and " UNIQUE" in f" {up}" and "USING INDEX" not in up:
            if " INDEX " in f" {up} " or " KEY " in f" {up} ":  # MySQL's ADD UNIQUE INDEX
                yield Op("create_index", line, text, table, postgres=pg)
            else:
                yield Op("add_unique", line, text, table, postgres=pg)
        elif up.startswith("VALIDATE CONSTRAINT"):
            yield Op("validate", line, text, table, postgres=True)
        elif _DROP_COLUMN.match(up):
            m = re.match(rf"DROP (?:COLUMN )?(?:IF EXISTS )?{_NAME}", action, re.I)
            yield Op("drop_column", line, text, table, m.group(1) if m else None, postgres=pg)
        elif up.startswith("RENAME TO "):
            yield Op("rename_table", line, text, table, postgres=pg)
        elif _RENAME_COLUMN.match(up):
            m = re.match(rf"RENAME (?:COLUMN )?{_NAME} TO", action, re.I)
            yield Op("rename_column", line, text, table, m.group(1) if m else None, postgres=pg)
        elif up.startswith(("ALTER ", "MODIFY ", "CHANGE ")):
            yield from _alter_column(action, table, line, text, pg)


_DROP_INDEX = re.compile(rf"^DROP INDEX (CONCURRENTLY )?(?:IF EXISTS )?{_NAME}( ON )?", re.I)
_DROP_TABLE = re.compile(rf"^DROP TABLE (?:IF EXISTS )?{_NAME}", re.I)
_RENAME_TABLE = re.compile(rf"^RENAME TABLE {_NAME}", re.I)  # MySQL
_CTE_UPDATE = re.compile(
    rf"\bUPDATE (?:ONLY )?{_NAME}(?: AS \w+| (?!SET\b)\w+)? SET\b",
    re.I,
)
_WHERE = re.compile(r"\bWHERE\b", re.I)
_ALWAYS = re.compile(r"WHERE (?:1 ?= ?1|TRUE)(?: ;)? ?$", re.I)  # a WHERE that keeps every row


def _update(flat: str, table: str, after: int, line: int, text: str, pg: bool) -> Op:
    """An UPDATE (on its own or inside a WITH); `after` is where its SET clause starts.

    A LIMIT or key range anywhere in the statement (a CTE choosing a batch) counts as a batch.
    """
    where = _WHERE.search(flat, after)
    if where and _ALWAYS.match(flat, where.start()):
        where = None
    one_row = bool(where and _ONE_ROW.search(flat, where.start()))
    batch_scope = flat if flat[:4].upper() == "WITH" else flat[where.start() :] if where else ""
    return Op(
        "update",
        line,
        text,
        table,
        filtered=where is not None,
        batched=one_row or bool(batch_scope and _BATCH.search(batch_scope)),
        postgres=pg,
    )


_REINDEX = re.compile(
    rf"^REINDEX (?:\([^)]*\) )?(?:INDEX|TABLE|SCHEMA|DATABASE|SYSTEM) (CONCURRENTLY )?{_NAME}", re.I
)
_BEGIN = re.compile(r"^(?:BEGIN|START TRANSACTION)\b(?! ATOMIC)", re.I)
_END = re.compile(r"^(?:COMMIT|END|ROLLBACK)\b", re.I)


def _statement_ops(flat: str, line: int, text: str) -> list[Op]:
    """The ops of one statement (whitespace collapsed, comments and strings blanked)."""
    pg = bool(_PG_ONLY.search(flat))
    if m := _CREATE_TABLE.match(flat):
        return [Op("create_table", line, text, m.group(1), postgres=pg)]
    if m := _CREATE_INDEX.match(flat):
        concurrent, name = bool(m.group(1)), m.group(2)
        return [
            Op(
                "create_index",
                line,
                text,
                m.group(3),
                concurrent=concurrent,
                postgres=pg,
                name=name,
            )
        ]
    if m := _ALTER.match(flat):
        return list(_alter_ops(m.group(1), flat, m.group(2), line, text))
    if m := _UPDATE.match(flat):
        return [_update(flat, m.group(1), m.start(2), line, text, pg)]
    if flat[:5].upper() == "WITH " and (m := _CTE_UPDATE.search(flat)):
        return [_update(flat, m.group(1), m.end(), line, text, pg)]
    if (m := _DROP_INDEX.match(flat)) and not m.group(3):  # not MySQL's DROP INDEX … ON t
        concurrent, name = bool(m.group(1)), m.group(2)
        return [Op("drop_index", line, text, concurrent=concurrent, postgres=pg, name=name)]
    if m := _REINDEX.match(flat):
        return [Op("reindex", line, text, m.group(2), concurrent=bool(m.group(1)), postgres=True)]
    if m := _DROP_TABLE.match(flat):
        return [Op("drop_table", line, text, m.group(1), postgres=pg)]
    if m := _RENAME_TABLE.match(flat):
        return [Op("rename_table", line, text, m.group(1))]
    return []


def sql_ops(
    sql: str, line_of: Callable[[int], int], source_lines: list[str] | None = None
) -> list[Op]:
    """Ops in `sql`; `line_of` maps a 0-based line within `sql` to a new-file line number.

    A CONCURRENTLY step between an explicit BEGIN and COMMIT is marked `in_transaction`.
    """
    raw_lines = source_lines if source_lines is not None else sql.split("\n")
    ops: list[Op] = []
    in_transaction = False
    for index, stmt in statements(sql):
        flat = _WS.sub(" ", stmt)
        if _BEGIN.match(flat):
            in_transaction = True
            continue
        if _END.match(flat):
            in_transaction = False
            continue
        text = raw_lines[index].strip() if index < len(raw_lines) else flat
        for op in _statement_ops(flat, line_of(index), text):
            ops.append(replace(op, in_transaction=True) if in_transaction and op.concurrent else op)
    return ops
