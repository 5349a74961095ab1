"""Authorization read from the hunks alone: what the rules fall back to without whole files.

Only the lines the diff shows are known, so these checks prefer silence to a guess: a guard
that an added line of application code attaches again (`Depends(name)`, `@name`, a call
`name(...)`, a line giving it a new home), or a change whose application code adds a place a
guard could have moved to (a router's dependencies, a custom router or base class, permission
classes, a `before_action`, a `.use(...)`, `@UseGuards`), is taken as moved. A test, a doc,
an import or a comment naming the guard is not: it covers no endpoint.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from app.review.diff import DiffLine, Hunk
from app.review.rules.base import Change, ChangedFile, Report, quote, span
from app.review.rules.guard_words import auth_name
from app.review.rules.hints import hinted
from app.review.rules.routes import EXPRESS_ROUTE, GUARD, MIDDLEWARE, is_route_line

OPT_OUT = re.compile(
    r"\bAllowAny\b|\bcsrf_exempt\b|@csrf\.exempt\b"
    r"|\b(permission|authentication)_classes\s*+=\s*+(\[\s*+\]|\(\s*+\))"
    r"|@(permission|authentication)_classes\(\s*+[\[(]\s*+[\])]\s*+\)"
    r"|@(Public|SkipAuth|AllowAnonymous|IsPublic|PublicRoute|NoAuth)\(\s*+\)|@PermitAll\b"
    r"|SetMetadata\(\s*+['\"](isPublic|public|skipAuth)['\"]\s*+,\s*+true"
    r"|@login_not_required\b"
    r"|skip_before_action\s++:(authenticate\w*+|require_login|authorize\w*+)"
    r"|\ballow_unauthenticated_access\b"
)
EMPTY_DEPS = re.compile(r"\bdependencies\s*+=\s*+\[\s*+\]")
# Every match of OPT_OUT or EMPTY_DEPS contains one of these.
OPT_OUT_HINTS = (
    "@",
    "AllowAny",
    "csrf",
    "_classes",
    "SetMetadata",
    "skip_before_action",
    "allow_unauthenticated_access",
    "dependencies",
)
# Every line `_guard_text` accepts contains one of these: "@" (the decorator forms of GUARD),
# the words of its other forms (GUARD is case-insensitive), or an Express route's `.get('/`.
_GUARD_HINTS = ("@",)
_GUARD_FOLDED = (
    "depends(",
    "security(",
    "permission_classes",
    "isauthenticated",
    "loginrequiredmixin",
    "permissionrequiredmixin",
)
_EXPRESS_HINT = re.compile(r"\.(?:get|post|put|patch|delete|all)\(\s*+['\"`]/")
IMPORT = re.compile(r"^\s*+(from\s++\S++\s++import|import\s|const\s++\{?[^=]*+=\s*+require\()")
_DECORATOR = re.compile(r"^\s*+@([\w.]++)")
# Added lines that give a guard somewhere else to live: a router's or app's dependencies, a
# custom router or base class, class-level guards, Rails filters, Express/Nest middleware.
_NEW_HOME = re.compile(
    r"dependencies\s*+=|\.dependencies\b|Router\w{0,64}+\(|permission_classes|authentication_classes"
    r"|^[ \t]*+class[ \t]++\w++[ \t]*+[(<][^)\n]{0,200}(?:Router|View|Controller|Resource|Base)"
    r"|before_action|before_filter|\.use\(|@UseGuards|RequiredMixin|before_request"
    r"|method_decorator",
    re.M,
)
_WORD = re.compile(r"[\w!?]++")
# The name a decorator or a dependency attaches: `@auth.require_admin`, `Depends(require_admin`.
_ATTACHED = re.compile(r"(?:@|\b(?:Depends|Security|UseGuards)\(\s*+)(?:\w++\.)*+([\w!?]++)")
_DEFINITION = re.compile(r"(?:\bdef|\bfunction|\bclass)\s++$")
_COMMENT = ("#", "//", "*", "/*")
_CLOSERS = {"(": ")", "[": "]"}


def in_string(text: str, pos: int) -> bool:
    """Whether `pos` sits inside a quoted string on this line (a pattern, a message, a doc)."""
    before = re.sub(r"\\.", "", text[:pos])
    return before.count('"') % 2 == 1 or before.count("'") % 2 == 1 or before.count("`") % 2 == 1


def may_guard(text: str) -> bool:
    return hinted(text, _GUARD_HINTS, _EXPRESS_HINT, _GUARD_FOLDED)


def _guard_text(line: str) -> str | None:
    if not may_guard(line):
        return None
    if (m := GUARD.search(line)) and not in_string(line, m.start()):
        return m.group(0)
    if (m := _DECORATOR.match(line)) and auth_name(m.group(1)):
        return m.group(0).strip()  # the project's own guard decorator, named for what it does
    if (route := EXPRESS_ROUTE.match(line)) and (m := MIDDLEWARE.search(route.group(3))):
        return m.group(0)
    return None


def _removed_guards(hunk: Hunk) -> list[tuple[DiffLine, int, str]]:
    """The removed lines of `hunk` that hold an auth guard: (line, old number, guard)."""
    found = []
    for ln in hunk.lines:
        if ln.kind != "removed" or ln.old_no is None or IMPORT.match(ln.text):
            continue
        if (guard := _guard_text(ln.text)) is not None:
            found.append((ln, ln.old_no, guard))
    return found


def _swapped_for_opt_out(hunk: Hunk) -> bool:
    """The hunk replaces a guard with an explicit opt-out (`IsAuthenticated` → `AllowAny`)."""
    for ln in hunk.lines:
        if ln.kind == "added" and hinted(ln.text, OPT_OUT_HINTS):
            found = OPT_OUT.search(ln.text)
            if found is not None and not in_string(ln.text, found.start()):
                return True
    return False


def _core_name(guard: str) -> str:
    """The identifier a guard is known by: `get_current_user` in `Depends(get_current_user)`."""
    words = [w for w in _WORD.findall(guard) if w not in ("Depends", "Security", "UseGuards")]
    return max(words, key=len, default=guard)


def _attaches(text: str, name: str) -> bool:
    """Whether the added line `text` puts the guard `name` to work: a decorator, a dependency
    or a call (a line giving it a new home, `dependencies=[...]`, `.use(...)`, `_moved` has
    already taken as a move)."""
    if IMPORT.match(text) or text.lstrip().startswith(_COMMENT):
        return False
    if any(m.group(1) == name and not in_string(text, m.start()) for m in _ATTACHED.finditer(text)):
        return True
    for m in _WORD.finditer(text):
        if m.group(0) != name or in_string(text, m.start()):
            continue
        called = text[m.end() :].lstrip().startswith("(")
        if called and not _DEFINITION.search(text[max(0, m.start() - 64) : m.start()]):
            return True
    return False


def _moved(change: Change, guard: str) -> bool:
    """Application code in the change attaches the guard again, or gives guards a new home.

    Only application code counts: a test importing the guard, or a doc naming it, covers no
    endpoint."""
    name = _core_name(guard)
    for g in change.reviewed:
        if not g.is_source:
            continue
        if _NEW_HOME.search(g.added_text):
            return True
        if name in g.added_text and any(_attaches(ln.text, name) for ln in g.diff.added_lines()):
            return True
    return False


def _closed(guard: str) -> str:
    """The guard with the brackets its match left open closed: `Depends(require_admin)`."""
    opened: list[str] = []
    for ch in guard:
        if ch in _CLOSERS:
            opened.append(_CLOSERS[ch])
        elif opened and ch == opened[-1]:
            opened.pop()
    return guard + "".join(reversed(opened))


def shown_guard(name: str, line: str) -> str:
    """The guard `name` as the line `line` writes it (`Depends(get_current_user)`), not the
    whole line it sits on (a `def` with every parameter); else just its name."""
    last = name.rsplit(".", 1)[-1]
    for m in GUARD.finditer(line):
        if last in _WORD.findall(m.group(0)) and not in_string(line, m.start()):
            return _closed(m.group(0))
    for m in _ATTACHED.finditer(line):
        if m.group(1) == last and not in_string(line, m.start()):
            return _closed(m.group(0))
    return name


def guard_removed(change: Change, f: ChangedFile) -> Iterator[Report]:
    if f.diff.status == "removed" or not may_guard(f.removed_text):
        return
    for hunk in f.diff.hunks:
        guards = _removed_guards(hunk)
        if not guards:
            continue
        removed_routes = sum(
            1 for ln in hunk.lines if ln.kind == "removed" and is_route_line(ln.text)
        )
        added_routes = sum(1 for ln in hunk.lines if ln.kind == "added" and is_route_line(ln.text))
        if removed_routes > added_routes:
            continue  # the endpoint itself is deleted, not unguarded
        if _swapped_for_opt_out(hunk):
            continue  # authz-opt-out reports this edit once; two findings would be noise
        for ln, old_no, guard in guards:
            if _moved(change, guard):
                continue
            yield Report(
                path=f.path,
                key=ln.text,
                title=f"Auth guard removed: `{quote(_closed(guard), 60)}`",
                evidence=f"Removed line {old_no}: `{quote(ln.text)}`; the change adds no "
                "equivalent guard in this file.",
                recommendation="Restore the guard, or move it somewhere that still covers "
                "this endpoint (router, middleware) and point to it in the PR.",
                lines=span(old_no),
                side="LEFT",
            )


def unguarded(f: ChangedFile) -> Iterator[Report]:
    endpoints = [e for e in f.endpoints if e.framework != "drf-method"]
    for e in endpoints:
        if not e.is_new or e.guards or e.public or OPT_OUT.search(e.head):
            continue
        siblings = [s for s in endpoints if s is not e and not s.public]
        guarded = [s for s in siblings if s.guards]
        if len(siblings) < 2 or len(guarded) * 2 <= len(siblings):
            continue
        common = Counter(" ".join(s.guards[0].split()) for s in guarded).most_common(1)[0][0]
        common = _closed(common)
        route = f"{'/'.join(sorted(e.methods))} {e.path or e.name}".strip()
        yield Report(
            path=f.path,
            key=f"{sorted(e.methods)}\0{e.path}\0{e.name}",
            title=f"New route `{route}` has no auth guard; its siblings do",
            evidence=f"{len(guarded)} of {len(siblings)} other routes in this file use "
            f"`{quote(common, 80)}`; `{quote(e.body[0].text)}` has none.",
            recommendation=f"Add the same guard (`{quote(common, 80)}`) to this route, or "
            "if it is public on purpose, say so next to it.",
            lines=span(e.line),
        )
