"""Authorization judged on whole files: each route at the base against the same route at the head.

A guard is removed when a route that still exists lost it from every scope (its own
decorators, its class, its router, the file) and gained nothing in its place: a guard that
now comes from a custom router class, a base class or a decorator defined in the change is a
move, not a removal. A new route is unguarded when most of its siblings in the file are
guarded (or every other mutating one is) and nothing covers it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from app.review.findings import Severity
from app.review.rules.authz_hunks import IMPORT, in_string, shown_guard
from app.review.rules.base import Change, ChangedFile, Report, quote, span
from app.review.rules.guard_words import plain_decorator
from app.review.rules.route_model import Guard, Route
from app.review.rules.route_table import FileRoutes

_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE", "ANY"})
_WORD = re.compile(r"[\w!?]++")
_MIDDLEWARE = re.compile(
    r"(?:middleware\.(?:use|insert_before|insert_after|insert|unshift)|add_middleware|\.use)"
    r"[ \t(]*+(?:::)?([\w:.]++)"
    r"|[\"']([\w.]++Middleware)[\"']"
)


def _match(
    base: Route, head: dict[tuple[str, str], Route], by_path: dict[str, Route]
) -> Route | None:
    found = head.get(base.key)
    if found is None and base.path:
        found = by_path.get(f"{'/'.join(sorted(base.methods))} {base.path}")
    return found


def _auth_middleware_added(change: Change) -> bool:
    """Whether the change registers a middleware named for auth (Rails `config.middleware.use
    AdminAuth`, Django `MIDDLEWARE`, FastAPI `add_middleware`, Express `app.use`)."""
    judge = change.routes.judge
    for g in change.reviewed:
        if "iddleware" not in g.added_text and ".use(" not in g.added_text:
            continue
        for ln in g.diff.added_lines():
            for m in _MIDDLEWARE.finditer(ln.text[:400]):
                full = m.group(1) or m.group(2)
                name = re.split(r"::|\.", full)[-1]
                if judge.is_guard(name):
                    return True
    return False


def _names_outside_strings(text: str, name: str) -> bool:
    """Whether the line `text` names `name` in code: not in an import, a comment or a string."""
    if IMPORT.match(text) or text.lstrip().startswith(("#", "//", "*")):
        return False
    return any(m.group(0) == name and not in_string(text, m.start()) for m in _WORD.finditer(text))


def _moved_elsewhere(change: Change, f: ChangedFile, routes: FileRoutes, name: str) -> bool:
    """Whether an added line of application code outside this file's routes names `name` (a
    router class, base class, decorator or include_router that now carries the guard), or the
    change registers an auth middleware. A test, an import or a comment naming it carries
    nothing."""
    if _auth_middleware_added(change):
        return True
    spans = [(r.start, r.end) for r in routes.head]
    for g in change.reviewed:
        if not g.is_source or name not in g.added_text:
            continue
        for ln in g.diff.added_lines():
            if name not in ln.text or not _names_outside_strings(ln.text, name):
                continue
            n = ln.new_no or 0
            if g.path != f.path or not any(a <= n <= b for a, b in spans):
                return True
    return False


def guard_removed(change: Change, f: ChangedFile, routes: FileRoutes) -> Iterator[Report]:
    if routes.base is None:
        return
    judge = change.routes.judge
    head = {r.key: r for r in routes.head}
    by_path = {f"{'/'.join(sorted(r.methods))} {r.path}": r for r in routes.head if r.path}
    lost: dict[tuple[str, int], tuple[Guard, list[Route]]] = {}
    swaps: dict[tuple[str, int], str] = {}  # guard -> a decorator of unknown effect put instead
    for b in routes.base:
        h = _match(b, head, by_path)
        if h is None or (h.opt_out and not b.opt_out):
            continue  # deleted or renamed; or an explicit opt-out, which authz-opt-out reports
        names = h.guard_names()
        if names - b.guard_names():
            continue  # something new covers it: the guard moved or was replaced
        unknown = [
            d
            for d in h.decorators
            if d not in b.decorators and not plain_decorator(d) and not judge.definition(d)
        ]
        for g in b.guards:
            if g.name not in names and g.scope != "inherited":
                lost.setdefault((g.name, g.line), (g, []))[1].append(h)
                if unknown:
                    swaps[(g.name, g.line)] = unknown[0]
    for (name, line), (g, routes_lost) in sorted(lost.items(), key=lambda kv: kv[0][1]):
        if _moved_elsewhere(change, f, routes, name):
            continue
        # Public by design, or narrowed on purpose: only reads lost a guard the file's writes
        # still have (a controller guard pushed down to the methods that change data).
        kept = any(name in r.guard_names() for r in routes.head if r.methods & _MUTATING)
        reads = all(not r.methods & _MUTATING for r in routes_lost)
        public = all(r.public for r in routes_lost) or (kept and reads)
        swap = swaps.get((name, line))
        labels = ", ".join(f"`{r.label}`" for r in routes_lost[:3])
        more = f" and {len(routes_lost) - 3} more" if len(routes_lost) > 3 else ""
        yield Report(
            path=f.path,
            key=f"{g.name}\0{g.text}\0{routes_lost[0].key}",
            title=f"`{quote(g.name, 60)}` replaced by `{quote(swap, 60)}`: does it still check "
            "who is asking?"
            if swap and not public
            else f"Auth guard removed: `{quote(g.name, 60)}`"
            if not public
            else f"`{quote(g.name, 60)}` no longer guards {labels}: public on purpose?",
            evidence=f"Base line {line}: `{quote(g.text)}` guarded {labels}{more}; at the head "
            "no decorator, dependency, class, router or middleware in this file (or defined in "
            "this change) covers them instead.",
            recommendation="Restore the guard, or move it somewhere that still covers "
            "these endpoints (router, base class, middleware) and point to it in the PR.",
            lines=span(line),
            side="LEFT",
            severity=Severity.INFO if public or swap else None,
            type="question" if public or swap else "evidence",
        )


def _names(r: Route) -> set[str]:
    """The guards of `r` as the convention counts them: each name, the object a member guard
    hangs off (`UserAuth.isAdmin` and `UserAuth.isSignedIn` are both `UserAuth`), carriers."""
    names = {g.name for g in r.guards} | {f"carrier:{c}" for c in r.carriers}
    return names | {f"family:{g.name.split('.', 1)[0]}" for g in r.guards if "." in g.name}


def _carried(r: Route, siblings: list[Route]) -> bool:
    """Whether an unknown carrier (a base class, a custom router out of sight) may guard `r`:
    not when siblings sharing it still declare guards of their own."""
    if not r.carriers:
        return False
    sharing = [s for s in siblings if set(r.carriers) <= set(s.carriers)]
    return not any(g.scope == "route" for s in sharing for g in s.guards)


def _convention(group: list[Route], refuted: frozenset[str] = frozenset()) -> int:
    """How many routes of `group` carry its most common guard (the file's convention); the
    `refuted` carriers (shown not to guard) do not count."""
    counts = Counter(
        n for s in group for n in _names(s) if not n.startswith("carrier:") or n[8:] not in refuted
    )
    return counts.most_common(1)[0][1] if counts else 0


def _verdict(r: Route, siblings: list[Route], refuted: frozenset[str]) -> Severity | None:
    """How sure the siblings make us that `r` lacks a guard: a severity, or None for silence.

    Reads and writes are judged apart (an API often lets anyone read and only users write):
    a new write is compared with the other writes, a new read with the other reads; and only
    a guard the siblings share counts (two reads behind two unrelated checks set no rule).
    """
    writes = bool(r.methods & _MUTATING)
    same = [s for s in siblings if bool(s.methods & _MUTATING) == writes]
    if len(same) >= 2:
        shared = _convention(same, refuted)
        if shared == len(same):
            return Severity.MAJOR
        if shared * 2 > len(same):
            return Severity.MAJOR if writes else Severity.INFO
        return None
    shared = _convention(siblings, refuted) if len(siblings) >= 2 else 0
    if shared == len(siblings) and shared:
        return Severity.MAJOR if writes else Severity.INFO
    if writes and shared * 2 > len(siblings):
        return Severity.MAJOR  # the only write, among reads that mostly share a guard
    return None


def _missing_shared(r: Route, siblings: list[Route]) -> list[Guard]:
    """Guards every sibling (at least two) has and `r` lacks, when `r` has nothing else: a
    new route behind part of the file's convention (`AuthGuard` without `HasPermissionGuard`)."""
    if len(siblings) < 2 or r.carriers:
        return []
    shared = set.intersection(*[{g.name for g in s.guards} for s in siblings])
    mine = {g.name for g in r.guards}
    if not mine <= shared:
        return []
    example = {g.name: g for g in siblings[0].guards}
    return [example[n] for n in sorted(shared - mine)]


def _writes_one(r: Route) -> bool:
    return bool(r.methods & _MUTATING) and r.targets_one


def _exemption(r: Route) -> str:
    """Why `r` may be public on purpose (said in the evidence), or "" when nothing says so.

    Either excuse makes a missing guard a question, never silence when the siblings are
    guarded: a public-sounding name over a write to one resource (`PUT /users/{id}/password`)
    may be anything, and a read that takes nothing from the request may still return every
    row (`GET /orders`)."""
    if r.public:
        return " Its name sounds public by design" + (
            ", but it changes one resource named in its path." if _writes_one(r) else "."
        )
    if r.static and not r.methods & _MUTATING:
        return " It takes nothing from the request, which may be public data, or every row."
    return ""


def unguarded(f: ChangedFile, routes: FileRoutes) -> Iterator[Report]:
    base_keys = {r.key for r in routes.base or ()}
    others = [r for r in routes.head if not r.public and not r.opt_out]
    for r in routes.head:
        if r.key in base_keys or (r.line not in routes.added and r.start not in routes.added):
            continue
        if r.opt_out:
            continue
        exempt = _exemption(r)
        if exempt and (r.guards or (r.public and not _writes_one(r))):
            continue  # public on purpose
        siblings = [s for s in others if s is not r]
        # The convention is what the routes already there do: new routes the same change adds
        # without a guard must not vouch for each other.
        established = [s for s in siblings if s.key in base_keys]
        siblings = established if len(established) >= 2 else siblings
        if r.guards:
            yield from _partly_guarded(f, r, siblings)
            continue
        if _carried(r, siblings):
            continue
        severity = _verdict(r, siblings, frozenset(r.carriers))
        if severity is None:
            continue
        if exempt:
            severity = Severity.INFO
        guarded = [s for s in siblings if s.guards or s.carriers]
        names = [s.guards[0] for s in guarded if s.guards]
        common = max(names, key=lambda g: sum(1 for n in names if n.name == g.name), default=None)
        shown = quote(shown_guard(common.name, common.text) if common else "a guard", 80)
        question = severity == Severity.INFO
        yield Report(
            path=f.path,
            key=f"{sorted(r.methods)}\0{r.path}\0{r.name}",
            title=f"New route `{r.label}` has no auth guard; its siblings do"
            if not question
            else f"New route `{r.label}` has no auth guard: public on purpose?",
            evidence=f"{len(guarded)} of {len(siblings)} other routes in this file are guarded "
            f"(e.g. `{shown}`); nothing covers `{r.label}`: no decorator, dependency, class, "
            f"router or middleware guard.{exempt}",
            recommendation=f"Add the same guard (`{shown}`) to this route, or if it is public "
            "on purpose, say so next to it.",
            lines=span(r.line),
            severity=severity,
            type="question" if question else "evidence",
        )


def _partly_guarded(f: ChangedFile, r: Route, siblings: list[Route]) -> Iterator[Report]:
    missing = _missing_shared(r, siblings)
    if not missing:
        return
    writes = bool(r.methods & _MUTATING)
    names = ", ".join(f"`{g.name}`" for g in missing)
    yield Report(
        path=f.path,
        key=f"{sorted(r.methods)}\0{r.path}\0{r.name}\0partial",
        title=f"New route `{r.label}` lacks {names}, which every sibling route has",
        evidence=f"All {len(siblings)} other routes in this file have {names} "
        f"(e.g. `{quote(missing[0].text, 80)}`); `{r.label}` has only "
        + ", ".join(f"`{g.name}`" for g in r.guards)
        + ".",
        recommendation=f"Add {names} to this route as its siblings do, or say next to it why "
        "it needs less.",
        lines=span(r.line),
        severity=None if writes else Severity.INFO,
        type="evidence" if writes else "question",
    )
