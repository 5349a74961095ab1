"""Pick the reader for a migration file and say whether the change targets PostgreSQL."""

from __future__ import annotations

import re

from app.review.rules.base import Change, ChangedFile
from app.review.rules.migration_alembic import alembic_facts
from app.review.rules.migration_django import django_facts
from app.review.rules.migration_facts import MigrationFacts, RollbackIssue
from app.review.rules.migration_rails import rails_facts
from app.review.rules.migration_scripts import knex_facts
from app.review.rules.migration_sql import sql_ops, statements

_SQL_FRAMEWORKS = ("sql", "flyway", "liquibase", "prisma", "golang-migrate")


def _is_down(f: ChangedFile) -> bool:
    """A rollback script: golang-migrate's `.down.sql`, a `down.sql` beside an `up.sql`,
    Flyway's `U…` undo migrations."""
    name = f.path.rsplit("/", 1)[-1].lower()
    if name == "down.sql" or name.endswith((".down.sql", "_down.sql", "-down.sql")):
        return True
    return name.startswith("u") and f.kind.framework == "flyway"


def _read(f: ChangedFile) -> MigrationFacts:
    framework = f.kind.framework
    visible = f.visible
    lines = [ln.text for ln in visible]

    def by_index(i: int) -> int:
        return visible[min(i, len(visible) - 1)].new_no or 1

    def by_lineno(n: int) -> int:
        return by_index(n - 1)

    if framework in _SQL_FRAMEWORKS and f.path.endswith(".sql"):
        if _is_down(f):
            if not any(True for _ in statements("\n".join(lines))):
                line = visible[0].new_no if visible else None
                return MigrationFacts(rollback=[RollbackIssue(line, "", "empty", f.path)])
            return MigrationFacts()
        return MigrationFacts(ops=sql_ops("\n".join(lines), by_index, lines))
    if framework == "alembic":
        return alembic_facts("\n".join(lines), by_lineno)
    if framework == "django":
        return django_facts("\n".join(lines), by_lineno)
    if framework == "rails":
        return rails_facts(lines, by_index)
    if framework == "knex":
        return knex_facts(lines, by_index)
    return MigrationFacts()


def facts_for(f: ChangedFile) -> MigrationFacts | None:
    """What an added migration does; None for other files and for edits of existing ones
    (only an added file shows its whole content). Rules read it as `ChangedFile.migration`,
    which keeps the result with the file."""
    if f.kind.kind != "migration" or f.diff.status != "added" or f.ignored is not None:
        return None
    return _read(f)


_PG_HINT = re.compile(
    r"postgres|psycopg|asyncpg|plpgsql|\bJSONB\b|TIMESTAMPTZ|CONCURRENTLY|NOT VALID"
    r"|django\.contrib\.postgres|postgresql_\w+\s*="
    r"|gen_random_uuid|USING (gin|gist|brin)\b|\bBIGSERIAL\b",
    re.I,
)


def targets_postgres(change: Change) -> bool:
    """The change shows PostgreSQL: a dialect import, PG-only syntax, a provider line, in the
    changed lines or in the whole files gathered with the change (a schema dump's
    `enable_extension "plpgsql"`, `provider = "postgresql"` in schema.prisma)."""
    # The joined text matches exactly when one of its lines does: no alternative of _PG_HINT
    # can span a line break without containing a match that does not.
    if any(_PG_HINT.search(f.new_text) for f in change.reviewed):
        return True
    return any(t.head and _PG_HINT.search(t.head) for t in change.context.files.values())


class PostgresHint:
    """`targets_postgres`, computed once per rule run and only when a finding needs it."""

    def __init__(self, change: Change) -> None:
        self._change = change
        self._known: bool | None = None

    def __bool__(self) -> bool:
        if self._known is None:
            self._known = targets_postgres(self._change)
        return self._known
