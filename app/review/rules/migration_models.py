"""The model declaration a Django `AlterField` replaces, read from the change itself.

An `AlterField` states only the new field. The old one is in the model file's base text (the
whole file, when gathered) or, failing that, in the diff's removed lines. Without either the
rules say nothing: `AlterField` is mostly harmless (choices, help_text, validators).
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache

from app.review.rules.base import Change, ChangedFile
from app.review.rules.migration_django import field_spec
from app.review.rules.migration_facts import FieldSpec

_DECLARATION = re.compile(r"^\s*(\w+)\s*(?::[^=]{0,200})?=\s*(?:models\.)?\w+\(")
_MAX_LINES = 15  # a field declaration longer than this is not read from removed lines


@lru_cache(maxsize=16)
def _tree(text: str) -> ast.Module | None:
    """A model file parsed once, however many AlterFields and rules ask about it."""
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def _from_base(text: str, model: str, field: str) -> FieldSpec | None:
    tree = _tree(text)
    if tree is None:
        return None
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef) or cls.name.lower() != model:
            continue
        for stmt in cls.body:
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) else None
            if isinstance(stmt, ast.AnnAssign):
                target = stmt.target
            value = stmt.value if isinstance(stmt, ast.Assign | ast.AnnAssign) else None
            named = isinstance(target, ast.Name) and target.id == field
            if named and isinstance(value, ast.Call):
                return field_spec(value)
    return None


def _from_removed(f: ChangedFile, field: str) -> FieldSpec | None:
    removed = [ln.text for ln in f.diff.removed_lines()]
    for i, text in enumerate(removed):
        m = _DECLARATION.match(text)
        if m is None or m.group(1) != field:
            continue
        source = text.strip()
        for more in removed[i + 1 : i + _MAX_LINES]:
            try:
                ast.parse(source)
                break
            except SyntaxError:
                source += "\n" + more
        try:
            node = ast.parse(source).body[0]
        except (SyntaxError, IndexError):
            return None
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        return field_spec(value) if isinstance(value, ast.Call) else None
    return None


def old_field(change: Change, model: str, field: str) -> FieldSpec | None:
    """The declaration of `model.field` before this change, where the change shows it."""
    model = model.lower()
    for f in change.reviewed:
        if not f.path.endswith(".py") or f.kind.kind in ("migration", "test"):
            continue
        if field not in f.removed_text:  # the declaration changes in every case we judge
            continue
        base = f.base_text  # a cut text still parses when the class is near the hunks
        found = _from_base(base, model, field) if base else None
        if found is None:
            found = _from_removed(f, field)
        if found is not None:
            return found
    return None
