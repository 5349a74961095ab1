"""Authorization at the service boundary: opt-outs added, guards removed, new unguarded routes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from app.review.diff import DiffLine, Hunk
from app.review.findings import Severity
from app.review.rules.base import Change, ChangedFile, Report, Rule, RuleContext, quote, span
from app.review.rules.hints import hinted
from app.review.rules.routes import (
    EXPRESS_ROUTE,
    GUARD,
    MIDDLEWARE,
    PUBLIC,
    is_route_line,
)

_OPT_OUT = re.compile(
    r"\bAllowAny\b|\bcsrf_exempt\b|@csrf\.exempt\b"
    r"|\b(permission|authentication)_classes\s*=\s*(\[\s*\]|\(\s*\))"
    r"|@(permission|authentication)_classes\(\s*[\[(]\s*[\])]\s*\)"
    r"|@(Public|SkipAuth|AllowAnonymous|IsPublic|PublicRoute|NoAuth)\(\s*\)|@PermitAll\b"
    r"|SetMetadata\(\s*['\"](isPublic|public|skipAuth)['\"]\s*,\s*true"
    r"|@login_not_required\b"
    r"|skip_before_action\s+:(authenticate\w*|require_login|authorize\w*)"
    r"|\ballow_unauthenticated_access\b"
)
_EMPTY_DEPS = re.compile(r"\bdependencies\s*=\s*\[\s*\]")
# Every match of _OPT_OUT or _EMPTY_DEPS contains one of these.
_OPT_OUT_HINTS = (
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
_EXPRESS_HINT = re.compile(r"\.(?:get|post|put|patch|delete|all)\(\s*['\"`]/")
_IMPORT = re.compile(
    r"^\s*+(from\s++\S++\s++import|import\s|const\s++\{?[^=]*+\}?\s*=\s*require\()"
)
_NAMES = re.compile(r"(?:def|class|function)\s+(\w+)|['\"`](/[^'\"`]*)['\"`]")


def _code_files(change: Change) -> Iterator[ChangedFile]:
    for f in change.reviewed:
        if f.is_code and f.kind.kind not in ("test", "docs", "migration"):
            yield f


def _in_string(text: str, pos: int) -> bool:
    """Whether `pos` sits inside a quoted string on this line (a pattern, a message, a doc)."""
    before = re.sub(r"\\.", "", text[:pos])
    return before.count('"') % 2 == 1 or before.count("'") % 2 == 1 or before.count("`") % 2 == 1


def _near_public(f: ChangedFile, index: int) -> bool:
    """Whether the handler next to line `index` is a public-by-design one (health, webhook…)."""
    window = f.visible[max(0, index - 3) : index + 7]
    names = [a or b for ln in window for a, b in _NAMES.findall(ln.text)]
    return any(PUBLIC.search(n) for n in names)


def _opt_out(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f in _code_files(change):
        if not hinted(f.added_text, _OPT_OUT_HINTS):
            continue
        for i, ln in enumerate(f.visible):
            if ln.kind != "added" or ln.new_no is None or not hinted(ln.text, _OPT_OUT_HINTS):
                continue
            if _IMPORT.match(ln.text):
                continue
            if ln.text.lstrip().startswith(("#", "//", "*")):
                continue
            hard = _OPT_OUT.search(ln.text)
            found = hard or _EMPTY_DEPS.search(ln.text)
            if found is None or _in_string(ln.text, found.start()) or _near_public(f, i):
                continue
            yield Report(
                path=f.path,
                key=ln.text,
                title=f"Authentication opt-out added: `{found.group(0)}`"
                if hard
                else "`dependencies=[]`: is this route meant to have no auth dependency?",
                evidence=f"`{quote(ln.text)}` switches off the usual authentication/CSRF "
                "protection for this endpoint."
                if hard
                else f"`{quote(ln.text)}` declares no dependencies; router-level dependencies "
                "still apply, so check this endpoint gets the auth you expect.",
                recommendation="Keep the default guard, or if this endpoint really is public, "
                "say why in a comment next to it and make sure it reads or changes nothing "
                "that needs a user (and, for CSRF exemption, that it verifies a signature).",
                lines=span(ln.new_no),
                severity=None if hard else Severity.INFO,
                type="evidence" if hard else "question",
            )


def _may_guard(text: str) -> bool:
    return hinted(text, _GUARD_HINTS, _EXPRESS_HINT, _GUARD_FOLDED)


def _guard_text(line: str) -> str | None:
    if not _may_guard(line):
        return None
    if (m := GUARD.search(line)) and not _in_string(line, m.start()):
        return m.group(0)
    if (route := EXPRESS_ROUTE.match(line)) and (m := MIDDLEWARE.search(route.group(3))):
        return m.group(0)
    return None


def _removed_guards(hunk: Hunk) -> list[tuple[DiffLine, int, str]]:
    """The removed lines of `hunk` that hold an auth guard: (line, old number, guard)."""
    found = []
    for ln in hunk.lines:
        if ln.kind != "removed" or ln.old_no is None or _IMPORT.match(ln.text):
            continue
        if (guard := _guard_text(ln.text)) is not None:
            found.append((ln, ln.old_no, guard))
    return found


def _swapped_for_opt_out(hunk: Hunk) -> bool:
    """The hunk replaces a guard with an explicit opt-out (`IsAuthenticated` → `AllowAny`)."""
    for ln in hunk.lines:
        if ln.kind == "added" and hinted(ln.text, _OPT_OUT_HINTS):
            found = _OPT_OUT.search(ln.text)
            if found is not None and not _in_string(ln.text, found.start()):
                return True
    return False


def _guard_removed(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f in _code_files(change):
        if f.diff.status == "removed" or not _may_guard(f.removed_text):
            continue
        added_text: str | None = None  # whitespace-normalised added lines, when needed
        for hunk in f.diff.hunks:
            guards = _removed_guards(hunk)
            if not guards:
                continue
            removed_routes = sum(
                1 for ln in hunk.lines if ln.kind == "removed" and is_route_line(ln.text)
            )
            added_routes = sum(
                1 for ln in hunk.lines if ln.kind == "added" and is_route_line(ln.text)
            )
            if removed_routes > added_routes:
                continue  # the endpoint itself is deleted, not unguarded
            if _swapped_for_opt_out(hunk):
                continue  # authz-opt-out reports this edit once; two findings would be noise
            if added_text is None:
                added_text = " ".join(" ".join(ln.text.split()) for ln in f.diff.added_lines())
            for ln, old_no, guard in guards:
                if " ".join(guard.split()) in added_text:
                    continue
                yield Report(
                    path=f.path,
                    key=ln.text,
                    title=f"Auth guard removed: `{quote(guard, 60)}`",
                    evidence=f"Removed line {old_no}: `{quote(ln.text)}`; the change adds no "
                    "equivalent guard in this file.",
                    recommendation="Restore the guard, or move it somewhere that still covers "
                    "this endpoint (router, middleware) and point to it in the PR.",
                    lines=span(old_no),
                    side="LEFT",
                )


def _unguarded(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f in _code_files(change):
        endpoints = [e for e in f.endpoints if e.framework != "drf-method"]
        for e in endpoints:
            if not e.is_new or e.guards or e.public or _OPT_OUT.search(e.head):
                continue
            siblings = [s for s in endpoints if s is not e and not s.public]
            guarded = [s for s in siblings if s.guards]
            if len(siblings) < 2 or len(guarded) * 2 <= len(siblings):
                continue
            common = Counter(" ".join(s.guards[0].split()) for s in guarded).most_common(1)[0][0]
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


RULES = (
    Rule(
        id="authz-opt-out",
        doc="An explicit auth/CSRF opt-out is added (AllowAny, csrf_exempt, @Public, "
        "permission_classes = [], @login_not_required…).",
        category="security",
        severity=Severity.MAJOR,
        check=_opt_out,
    ),
    Rule(
        id="authz-guard-removed",
        doc="An auth guard (decorator, dependency, middleware, permission class) is removed.",
        category="security",
        severity=Severity.MAJOR,
        check=_guard_removed,
    ),
    Rule(
        id="authz-unguarded-route",
        doc="A new route lacks the guard most sibling routes in the same file have.",
        category="security",
        severity=Severity.MAJOR,
        check=_unguarded,
    ),
)
