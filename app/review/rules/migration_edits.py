"""Whether an edit of an existing migration changes what the database runs.

Formatter runs, import moves, type hints, comments and docstrings touch every migration of a
project at once and change nothing a database would see. With the whole file at base and head
(`ChangedFile.base_text` / `head_text`) a Python migration is compared by its syntax tree without
those parts, SQL, Ruby and JavaScript by their text without comments, whitespace and quote style.
Without the whole file, a hunk that changes only whitespace or whole comment lines is cosmetic.
"""

from __future__ import annotations

import ast
import re

from app.review.rules.base import ChangedFile

# An unclosed /* runs to the end (as in SQL): no rescan from every later "/*".
_SQL_COMMENT = re.compile(r"--[^\n]*+|/\*(?:[^*]|\*(?!/))*+(?:\*/|\Z)")
_HASH_COMMENT = re.compile(r"^[ \t]*+#[^\n]*+", re.M)
_SLASH_COMMENT = re.compile(r"^[ \t]*+//[^\n]*+", re.M)
_TRAILING_COMMA = re.compile(r",(?=[)\]}])")


class _Strip(ast.NodeTransformer):
    """Drops what a formatter or a typing pass changes: docstrings, imports, annotations."""

    def visit_Import(self, node: ast.Import) -> None:
        return None

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        return None

    def visit_Expr(self, node: ast.Expr) -> ast.Expr | None:
        return None if isinstance(node.value, ast.Constant) else node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.returns = None
        self.generic_visit(node)
        if not node.body:
            node.body = [ast.Pass()]
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.Assign | None:
        if node.value is None:
            return None
        return ast.Assign(targets=[node.target], value=node.value, lineno=node.lineno)


def _python_shape(text: str) -> str | None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    return ast.dump(_Strip().visit(tree), annotate_fields=False)


def _plain(text: str, comments: re.Pattern[str], quotes: bool) -> str:
    text = comments.sub("", text)
    flat = "".join(text.split())
    if quotes:  # prettier and friends: quote style, semicolons, trailing commas
        flat = _TRAILING_COMMA.sub("", flat.replace('"', "'").replace(";", ""))
    return flat


def _shape(path: str, text: str) -> str | None:
    if path.endswith(".py"):
        return _python_shape(text)
    if path.endswith(".sql"):
        return _plain(text, _SQL_COMMENT, quotes=False)
    if path.endswith(".rb"):
        return _plain(text, _HASH_COMMENT, quotes=True)
    if path.endswith((".js", ".ts", ".mjs", ".cjs")):
        return _plain(text, _SLASH_COMMENT, quotes=True)
    return None


def _hunk_shape(path: str, text: str) -> str:
    """Changed lines without comments and whitespace: all a hunk shows."""
    if path.endswith(".sql"):
        return _plain(text, _SQL_COMMENT, quotes=False)
    if path.endswith((".py", ".rb")):
        return _plain(text, _HASH_COMMENT, quotes=False)
    if path.endswith((".js", ".ts", ".mjs", ".cjs")):
        return _plain(text, _SLASH_COMMENT, quotes=False)
    return "".join(text.split())


def cosmetic(f: ChangedFile) -> bool:
    """True when the edit leaves every statement the migration runs as it was."""
    if _hunk_shape(f.path, f.added_text) == _hunk_shape(f.path, f.removed_text):
        return True  # whitespace or whole comment lines only
    base, head, whole = f.base_text, f.head_text, f.text is not None and not f.text.cut
    if base is None or head is None or not whole:
        return False
    before = _shape(f.path, base)
    return before is not None and before == _shape(f.path, head)
