"""One import away: the project's own modules a changed route file takes its guards from.

A guard moved into a router, a base class or a decorator is invisible in the route file
itself. When a changed route file imports the name it decorates with, inherits from or passes
to `Depends(...)` from a module of the same project, that module is worth reading too. This
names the candidate paths; gathering reads whichever exist (a missing one costs nothing more
than its alias in the same GraphQL request, or a failed `git show`).

    Python   `from app.auth import admin_only` (absolute, same top package as the file) or
             `from .deps import router` (relative)  ->  app/auth.py, app/auth/__init__.py
    TS / JS  `import { AuthGuard } from './auth.guard'` (relative only)  ->  ./auth.guard.ts,
             ./auth.guard/index.ts (the importing file's own extension)
    Ruby     `class OrdersController < ApplicationController`, `include Authenticatable`
             -> application_controller.rb beside the file, or in its concerns/ folder

Pure and linear: each line is read once, patterns are anchored with bounded repeats.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from app.review.outline import MAX_SCAN, language_of

MAX_PER_FILE = 6  # candidate paths one file may add

_PY_FROM = re.compile(
    r"from[ \t]++(\.{0,6}+)([\w.]{0,200}+)[ \t]++import[ \t]++\(?([\w ,\t]{1,300}+)"
)
_PY_USED = re.compile(
    r"[ \t]*+@[ \t]*+([A-Za-z_]\w*+)"  # a decorator: @admin_only, @router.get(...)
    r"|[ \t]*+class[ \t]++\w++[ \t]*+\(([\w., \t]{1,200}+)\)"  # base classes
)
_DEPENDS = re.compile(
    r"(?:Depends|Security|permission_classes|dependencies)\W{1,4}+([A-Za-z_]\w*+)"
)
_TS_IMPORT = re.compile(
    r"import[ \t]++(?:type[ \t]++)?([^'\"\n]{0,300}?)"
    r"from[ \t]*+['\"](\.{1,2}/[^'\"\n]{1,200}+)['\"]"
)
_TS_USED = re.compile(r"@([A-Za-z_$][\w$]*+)|\bextends[ \t]++([A-Za-z_$][\w$]*+)")
_TS_GUARDS = re.compile(r"UseGuards\(([\w$, \t]{1,200}+)\)")
_PY_ASSIGN = re.compile(
    r"([A-Za-z_]\w*+)[ \t]*+(?::[^=\n]{0,100}+)?=[ \t]*+([A-Za-z_][\w.]*+)[ \t]*+\("
)
_RB_USED = re.compile(
    r"[ \t]*+(?:class[ \t]++[\w:]++[ \t]*+<[ \t]*+([\w:]{1,120}+)|include[ \t]++([\w:]{1,120}+))"
)
_WORD = re.compile(r"[A-Za-z_$][\w$]*+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def hop_candidates(path: str, text: str) -> list[str]:
    """Paths of the project's modules that may define the decorators, base classes or
    dependencies `path` (at `text`) uses; at most MAX_PER_FILE, most likely first."""
    language = language_of(path)
    lines = [line[:MAX_SCAN] for line in text.split("\n")]
    if language == "python":
        found = _python(path, lines)
    elif language == "brace":
        found = _typescript(path, lines)
    elif language == "ruby":
        found = _ruby(path, lines)
    else:
        return []
    return [p for p in dict.fromkeys(found) if p != path][:MAX_PER_FILE]


def _python(path: str, lines: list[str]) -> list[str]:
    used: set[str] = set()
    for line in lines:
        if match := _PY_USED.match(line):
            used |= set(_WORD.findall(match.group(1) or match.group(2) or ""))
        used |= set(_DEPENDS.findall(line))
    for line in lines:  # `router = AdminRouter()`: a used name made by an imported one
        match = _PY_ASSIGN.match(line)
        if match is not None and match.group(1) in used:
            used.add(match.group(2).split(".")[0])
    top = path.split("/", 1)[0]
    folder = posixpath.dirname(path)
    out: list[str] = []
    for line in lines:
        match = _PY_FROM.match(line)
        if match is None:
            continue
        dots, module, names = match.group(1), match.group(2), match.group(3)
        imported = {n.split(" as ")[-1].strip() for n in names.split(",")}
        if not imported & used:
            continue
        if dots:
            base = folder
            for _ in range(len(dots) - 1):
                base = posixpath.dirname(base)
            parts = [p for p in module.split(".") if p]
            if not parts:  # `from . import deps`: the names are modules
                out += [posixpath.join(base, f"{n}.py") for n in sorted(imported & used)]
                continue
            stem = posixpath.join(base, *parts)
        else:
            parts = module.split(".")
            if parts[0] != top and f"/{parts[0]}/" not in f"/{folder}/":
                continue  # a library, not this project
            prefix = _prefix_before(folder, parts[0])
            stem = posixpath.join(prefix, *parts)
        out += [f"{stem}.py", f"{stem}/__init__.py"]
    return out


def _prefix_before(folder: str, package: str) -> str:
    """`src` for `src/app/api` and package `app`; "" when the folder starts with it."""
    parts = folder.split("/")
    return "/".join(parts[: parts.index(package)]) if package in parts else ""


def _typescript(path: str, lines: list[str]) -> list[str]:
    used: set[str] = set()
    for line in lines:
        for groups in _TS_USED.findall(line):
            for group in groups:
                used |= set(_WORD.findall(group))
        for group in _TS_GUARDS.findall(line):
            used |= set(_WORD.findall(group))
    extension = posixpath.splitext(path)[1].lower()
    extension = ".ts" if extension in (".tsx", ".mts", ".cts") else extension
    folder = posixpath.dirname(path)
    out: list[str] = []
    for line in lines:
        match = _TS_IMPORT.match(line.lstrip())
        if match is None or not set(_WORD.findall(match.group(1))) & used:
            continue
        stem = posixpath.normpath(posixpath.join(folder, match.group(2)))
        if stem.startswith(".."):
            continue
        if posixpath.splitext(stem)[1] in (".ts", ".js", ".mjs", ".cjs"):
            out.append(stem)
        else:
            out += [f"{stem}{extension}", f"{stem}/index{extension}"]
    return out


def _ruby(path: str, lines: list[str]) -> list[str]:
    folder = posixpath.dirname(path)
    out: list[str] = []
    for line in lines:
        match = _RB_USED.match(line)
        if match is None:
            continue
        name = (match.group(1) or match.group(2)).split("::")[-1]
        file = _snake(name) + ".rb"
        out += [posixpath.join(folder, file), posixpath.join(folder, "concerns", file)]
    return out


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def hops_for(files: Iterable[tuple[str, str]], *, limit: int) -> list[str]:
    """Candidates for several (path, head text) pairs, in order, without repeats, at most
    `limit`, and none of the files themselves."""
    pairs = list(files)
    seen = {p for p, _ in pairs}
    out: list[str] = []
    for path, text in pairs:
        for candidate in hop_candidates(path, text):
            if candidate not in seen and len(out) < limit:
                seen.add(candidate)
                out.append(candidate)
    return out
