"""Authorization at the service boundary: opt-outs added, guards removed, new unguarded routes.

With whole files (gathered, or added in the change) every route is read with the guards of
every scope and compared across base and head (`authz_whole`); without them the hunks are
read lexically and conservatively (`authz_hunks`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.review.findings import Severity
from app.review.rules import authz_hunks, authz_whole
from app.review.rules.authz_hunks import EMPTY_DEPS, IMPORT, OPT_OUT, OPT_OUT_HINTS, in_string
from app.review.rules.base import Change, ChangedFile, Report, Rule, RuleContext, quote, span
from app.review.rules.hints import hinted
from app.review.rules.route_model import public_name

_NAMES = re.compile(r"(?:def|class|function)\s++(\w++)|['\"`](/[^'\"`\n]{0,300})['\"`]")
_OWNER = re.compile(r"^\s*+(?:export\s++)?(?:async\s++)?(?:class|def|function)\s++(\w++)")
_DEPS_CONTEXT = re.compile(r"@|Router\(|include_router|api_route|FastAPI\(")
_SKIP = re.compile(r"^\s*+skip_before_action\s++:(\w++[!?]?)")


def _code_files(change: Change) -> Iterator[ChangedFile]:
    for f in change.reviewed:
        if f.is_code and f.kind.kind not in ("test", "docs", "migration"):
            yield f


def _near_public(change: Change, f: ChangedFile, index: int) -> bool:
    """Whether the handler next to line `index` is a public-by-design one (health, webhook…)."""
    window = f.visible[max(0, index - 3) : index + 7]
    names = [a or b for ln in window for a, b in _NAMES.findall(ln.text)]
    named = [public_name(n, "") if n.startswith("/") else public_name("", n) for n in names]
    if any(named) or public_name("", f.path.rsplit("/", 1)[-1]):
        return True
    routes = change.routes.of(f)
    line = f.visible[index].new_no or 0
    if routes is None:
        return False
    covering = [r for r in routes.head if r.start <= line <= r.end]
    return bool(covering) and all(r.public for r in covering)


def _enclosing(f: ChangedFile, index: int) -> str:
    """The class or function the visible line `index` sits in (the same opt-out line in two
    view classes is two findings)."""
    indent = len(f.visible[index].text) - len(f.visible[index].text.lstrip())
    for ln in reversed(f.visible[max(0, index - 80) : index]):
        text = ln.text
        if text.strip() and len(text) - len(text.lstrip()) < indent:
            if m := _OWNER.match(text):
                return m.group(1)
            indent = len(text) - len(text.lstrip())
    return ""


def _opt_out_match(change: Change, text: str) -> tuple[str, bool] | None:
    """The opt-out `text` declares and whether it is a hard one (not `dependencies=[]`)."""
    hard = OPT_OUT.search(text)
    if hard is None and (m := _SKIP.match(text)) and change.routes.judge.is_guard(m.group(1)):
        return m.group(0).strip(), True  # skips the project's own auth filter
    found = hard or EMPTY_DEPS.search(text)
    if found is None or in_string(text, found.start()):
        return None
    return found.group(0), hard is not None


def _opt_out(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f in _code_files(change):
        if not hinted(f.added_text, OPT_OUT_HINTS):
            continue
        in_doc = False  # inside a triple-quoted string (a docstring mentioning an opt-out)
        for i, ln in enumerate(f.visible):
            quotes = ln.text.count('"""') + ln.text.count("'''")
            was_doc, in_doc = in_doc, in_doc != (quotes % 2 == 1)
            if was_doc or quotes:
                continue
            if ln.kind != "added" or ln.new_no is None or not hinted(ln.text, OPT_OUT_HINTS):
                continue
            if IMPORT.match(ln.text) or ln.text.lstrip().startswith(("#", "//", "*")):
                continue
            found = _opt_out_match(change, ln.text)
            if found and not found[1] and not _DEPS_CONTEXT.search(ln.text):
                found = None  # `dependencies = []` outside a route or router: a plain list
            if found is None or _near_public(change, f, i):
                continue
            text, hard = found
            yield Report(
                path=f.path,
                key=f"{ln.text}\0{_enclosing(f, i)}",
                title=f"Authentication opt-out added: `{quote(text, 80)}`"
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


def _guard_removed(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f in _code_files(change):
        routes = change.routes.of(f)
        if routes is not None and routes.base is not None:
            yield from authz_whole.guard_removed(change, f, routes)
        else:
            yield from authz_hunks.guard_removed(change, f)


def _unguarded(change: Change, ctx: RuleContext) -> Iterator[Report]:
    for f in _code_files(change):
        routes = change.routes.of(f)
        if routes is not None and routes.base is not None:
            yield from authz_whole.unguarded(f, routes)
        else:
            yield from authz_hunks.unguarded(f)


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
