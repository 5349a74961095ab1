"""Model and migration out of step: a schema change with no migration, or the reverse."""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.review.diff import DiffLine
from app.review.findings import Severity
from app.review.rules.base import Change, ChangedFile, Report, Rule, RuleContext, quote, span

_DJANGO_FIELD = re.compile(r"^\s*+\w++\s*+=\s*+models\.\w+(Field|Key)\(")
_SQLA_FIELD = re.compile(
    r"^\s*+\w++\s*+(:\s*+Mapped\[.*\])?\s*+=\s*+(sa\.|sqlalchemy\.)?(Column|mapped_column)\("
)
_PRISMA_FIELD = re.compile(
    r"^\s*\w+\s+(String|Int|BigInt|Float|Decimal|Boolean|DateTime|Json|Bytes|[A-Z]\w*)(\?|\[\])?(\s|$)"
)


def _changed(f: ChangedFile) -> list[DiffLine]:
    return [ln for ln in f.diff.lines() if ln.kind != "context"]


def _maybe_django(f: ChangedFile) -> bool:
    """Whether a changed line may declare a Django field (every such line has "models.")."""
    return "models." in f.added_text or "models." in f.removed_text


def _field_lines(f: ChangedFile) -> tuple[str, list[DiffLine]]:
    """(framework, changed field lines) for an ORM model file; moved lines cancel out."""
    if f.path.endswith(".prisma"):
        framework, pattern = "prisma", _PRISMA_FIELD
    elif not f.path.endswith(".py"):
        return "", []
    elif _maybe_django(f) and any(_DJANGO_FIELD.match(ln.text) for ln in _changed(f)):
        framework, pattern = "django", _DJANGO_FIELD
    elif f.kind.kind == "model":
        framework, pattern = "sqlalchemy", _SQLA_FIELD
    else:
        return "", []
    changed = _changed(f)
    changed = [ln for ln in changed if pattern.match(ln.text)]
    added = {" ".join(ln.text.split()) for ln in changed if ln.kind == "added"}
    removed = {" ".join(ln.text.split()) for ln in changed if ln.kind == "removed"}
    moved = added & removed
    return framework, [ln for ln in changed if " ".join(ln.text.split()) not in moved]


def _has_migration(change: Change) -> bool:
    return any(f.kind.kind == "migration" for f in change.reviewed)


def _model_without_migration(change: Change, ctx: RuleContext) -> Iterator[Report]:
    if _has_migration(change):
        return
    for f in change.reviewed:
        if f.ignored or f.kind.kind in ("test", "migration", "docs"):
            continue
        framework, lines = _field_lines(f)
        if not lines:
            continue
        first = lines[0]
        sure = framework in ("django", "prisma")
        number = first.new_no if first.kind == "added" else first.old_no
        yield Report(
            path=f.path,
            key=first.text,
            title="Model fields change with no migration"
            if sure
            else "Model columns change: where is the migration?",
            evidence=f"{len(lines)} field line(s) change in {f.path} ({framework}), e.g. "
            f"`{quote(first.text)}`, and the change adds no migration.",
            recommendation={
                "django": "Run `manage.py makemigrations` and commit the migration with it.",
                "prisma": "Run `prisma migrate dev` and commit the generated migration.",
            }.get(
                framework, "Add the Alembic revision for this change (or say why none is needed)."
            ),
            lines=span(number) if number else None,
            side="LEFT" if first.kind == "removed" else "RIGHT",
            severity=None if sure else Severity.INFO,
            type="evidence" if sure else "question",
        )


def _migration_without_model(change: Change, ctx: RuleContext) -> Iterator[Report]:
    if any(f.is_source for f in change.reviewed if f.diff.added or f.diff.removed):
        return
    if any(f.path.endswith(".prisma") for f in change.reviewed):
        return
    for f in change.reviewed:
        if f.kind.framework not in ("alembic", "django", "prisma"):
            continue
        facts = f.migration
        if facts is None:
            continue
        additive = [op for op in facts.ops if op.kind in ("add_column", "create_table")]
        if not additive:
            continue
        op = additive[0]
        yield Report(
            path=f.path,
            key=f"{op.kind}\0{op.table}\0{op.column}",
            title="Migration with no model change: is the model update missing?",
            evidence=f"`{quote(op.text)}` changes the schema, but no model or application code "
            "changes in this PR.",
            recommendation="Add the matching model/schema change, or say in the PR why the code "
            "does not need it (e.g. the model already declares it).",
            lines=span(op.line),
            type="question",
        )


RULES = (
    Rule(
        id="model-without-migration",
        doc="ORM model fields (Django, SQLAlchemy, Prisma) change and no migration is added.",
        category="migrations",
        severity=Severity.MINOR,
        check=_model_without_migration,
    ),
    Rule(
        id="migration-without-model",
        doc="A migration adds tables or columns and no model or code changes with it.",
        category="migrations",
        severity=Severity.INFO,
        check=_migration_without_model,
    ),
)
