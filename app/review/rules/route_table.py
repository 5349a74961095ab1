"""Every route of the change's whole files, at the head and at the base, read once per review.

A file is read whole when its full text is known: gathered (`ChangedFile.head_text`, not cut) or
added (the diff shows all of it). Its base is known when gathered, or empty for an added file.
Otherwise the file has no `FileRoutes` and the rules fall back to the hunks, conservatively.
The functions every changed and gathered file defines are indexed once: a decorator, a
dependency, a middleware, a router or base class is judged a guard by its definition, and the
idempotency rule follows an endpoint's calls through them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from app.review.rules.code_text import Definition, definitions, lang_of
from app.review.rules.guard_words import GuardJudge, index
from app.review.rules.route_model import Route
from app.review.rules.routes_js import read_js
from app.review.rules.routes_python import read_python
from app.review.rules.routes_ruby import read_rails

if TYPE_CHECKING:
    from app.review.rules.base import Change, ChangedFile

MAX_TEXT = 400_000  # characters of one file the readers look at

_READERS: dict[str, Callable[[str, str, GuardJudge], list[Route]]] = {
    "python": read_python,
    "js": read_js,
    "ruby": read_rails,
}


@dataclass(frozen=True)
class FileRoutes:
    path: str
    head: tuple[Route, ...]
    base: tuple[Route, ...] | None  # None when the base text is not known
    added: frozenset[int]  # new-side numbers of the added lines


def whole_head(f: ChangedFile) -> str | None:
    """`f` at the head when known whole: gathered and not cut, or added (the diff is all of it)."""
    if f.text is not None and f.text.head is not None and not f.text.cut:
        return f.text.head
    if f.diff.status == "added" and f.diff.hunks:
        return f.new_text
    return None


def whole_base(f: ChangedFile) -> str | None:
    if f.diff.status == "added":
        return ""
    if f.text is not None and f.text.base is not None and not f.text.cut:
        return f.text.base
    return None


class RouteIndex:
    def __init__(self, change: Change) -> None:
        self.change = change
        texts: dict[str, str] = {}
        for path, t in change.context.files.items():
            if t.head is not None and lang_of(path):
                texts[path] = t.head[:MAX_TEXT]
        for f in change.reviewed:
            head = whole_head(f)
            if head is not None and lang_of(f.path):
                texts[f.path] = head[:MAX_TEXT]
        self.texts = texts
        self.judge = GuardJudge(lambda: self.defs)
        self._files: dict[str, FileRoutes | None] = {}
        self._added: dict[str, frozenset[int]] = {}
        self._by_path = {f.path: f for f in change.reviewed}

    @cached_property
    def defs(self) -> dict[str, list[Definition]]:
        """Every function the whole texts define, by name (read on first use)."""
        return index(
            d for path, text in self.texts.items() for d in definitions(path, text.split("\n"))
        )

    def added(self, path: str) -> frozenset[int]:
        """New-side numbers of the lines the change adds to `path`."""
        if path not in self._added:
            f = self._by_path.get(path)
            lines = f.diff.added_lines() if f is not None else iter(())
            self._added[path] = frozenset(ln.new_no for ln in lines if ln.new_no is not None)
        return self._added[path]

    def of(self, f: ChangedFile) -> FileRoutes | None:
        if f.path not in self._files:
            self._files[f.path] = self._read(f)
        return self._files[f.path]

    def _read(self, f: ChangedFile) -> FileRoutes | None:
        reader = _READERS.get(lang_of(f.path))
        head = whole_head(f)
        if reader is None or head is None or f.diff.status == "removed":
            return None
        base = whole_base(f)
        if not _may_route(lang_of(f.path), f.path, head):
            return FileRoutes(f.path, (), () if base is not None else None, self.added(f.path))
        return FileRoutes(
            f.path,
            tuple(reader(f.path, head[:MAX_TEXT], self.judge)),
            tuple(reader(f.path, base[:MAX_TEXT], self.judge)) if base is not None else None,
            self.added(f.path),
        )


def _may_route(lang: str, path: str, text: str) -> bool:
    """Whether `text` can declare a route at all: every route the readers find needs one of
    these (a decorator, a view's `request`, a class view, a controller, an Express call)."""
    if lang == "python":
        return "@" in text or "request" in text or "View" in text or "Resource" in text
    if lang == "ruby":
        return path.endswith("_controller.rb")
    return "@" in text or bool(_JS_ROUTE_HINT.search(text))


_JS_ROUTE_HINT = re.compile(r"\.(?:get|post|put|patch|delete|all|use)\(")

# What a route declaration looks like on its own lines, stricter than `may_route` (which only
# rules files out): a method decorator (`@router.delete(`, `@app.route(`, DRF's `@api_view`),
# a class view, an Express call on a router-like name, a NestJS method decorator. Bounded
# repeats, one line each: linear.
_PY_ROUTE_LINE = re.compile(
    r"^[ \t]*@[\w.]{1,200}\.(?:get|post|put|patch|delete|route|api_route|websocket|head|options)\("
    r"|^[ \t]*@(?:api_view|action)\b"
    r"|^[ \t]*class [\w]{1,200}\([^)\n]{0,300}(?:View|ViewSet|Resource)\b",
    re.MULTILINE,
)
_JS_ROUTE_LINE = re.compile(
    r"\b(?:router|app|server|api|routes|fastify)\.(?:get|post|put|patch|delete|all)\("
    r"|^[ \t]*@(?:Get|Post|Put|Patch|Delete|All)\(",
    re.MULTILINE,
)


def declares_route(lang: str, path: str, lines: str) -> bool:
    """Whether `lines` (a change's added lines) declare a route: then the file's base is worth
    reading wherever the file lives, to judge the new route against its siblings."""
    if lang == "python":
        return _PY_ROUTE_LINE.search(lines) is not None
    if lang == "js":
        return _JS_ROUTE_LINE.search(lines) is not None
    return lang == "ruby" and path.endswith("_controller.rb")
