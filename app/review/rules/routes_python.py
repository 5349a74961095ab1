"""Routes of a whole Python file with their guards: FastAPI, Flask, DRF and Django views.

Read line by line, with decorators, signatures and constructor calls joined across lines:
route decorators (`@router.post(` with the path on the next line too), `@api_view`, DRF
`@action`s and the methods of view classes (`get`, `post`, …, `list`, `create`, …), Django
function views (`def view(request)` in a views module). Guards come from every scope: the
route's decorators and `Depends`/`Security` parameters (also through `Annotated` aliases), the
route decorator's `dependencies=`, the router's (`APIRouter(dependencies=...)`,
`router.dependencies.append(...)`, a custom router class), the class's
`permission_classes`/`authentication_classes`/`decorators`/`method_decorator`/mixins and
base classes, and Flask `before_request` hooks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.review.rules.code_text import (
    MAX_JOIN,
    MAX_LINE,
    indent_of,
    join_balanced,
    python_block_end,
)
from app.review.rules.guard_words import GuardJudge, refuses
from app.review.rules.route_model import Guard, Route

_ROUTE = re.compile(r"^@((?:\w++\.)++)(get|post|put|patch|delete|route|api_route|head|options)\(")
_PATH = re.compile(r"\(\s*+(?:(?:path|rule)\s*+=\s*+)?[rfbuRFBU]?[\"']([^\"'\n]{0,300})[\"']")
_LIST = re.compile(r"methods\s*+=\s*+[\[(]([^\])]{0,300})")
_DEC = re.compile(r"^@([\w.]++)")
_DEPENDS = re.compile(r"\b(Depends|Security)\(\s*+([\w.]++)")
_ANNOTATION = re.compile(r"\w[ \t]*+:[ \t]*+([A-Z]\w*+)")
# An `Annotated` alias imported from elsewhere, named for the user it resolves to.
_AUTH_ALIAS = re.compile(
    r"(?:Current|Auth|Authenticated|Admin|Superuser|Active|Verified|LoggedIn|Staff|Required)"
    r"[A-Z]\w*+$"
)
_AUTH_ALIAS_END = tuple(
    f"{who}{dep}"
    for who in ("User", "Auth", "Token", "Principal", "Admin")
    for dep in ("Dep", "Dependency")
)
_ALIAS = re.compile(
    r"(?:Current|Auth|Authenticated|Admin|Superuser|Active|Verified|LoggedIn|Staff|Required)"
    r"[A-Z]\w*+$|\w*?(?:User|Auth|Token|Principal|Admin)Dep(?:endency)?$"
)
_ALIAS = re.compile(r"^(\w++)[ \t]*+(?::[ \t]*+\w++[ \t]*+)?=[ \t]*+Annotated\[")
_CLASS = re.compile(r"^([ \t]*+)class[ \t]++(\w++)")
_DEF = re.compile(r"^([ \t]*+)(?:async[ \t]++)?def[ \t]++(\w++)[ \t]*+\(")
_CTOR = re.compile(r"^(\w++)[ \t]*+(?::[ \t]*+[\w.]++[ \t]*+)?=[ \t]*+([\w.]++)\(")
_DEPS_ADD = re.compile(r"^(\w++)\.dependencies[ \t]*+(?:\.append\(|\.extend\(|\+=|=)")
_HOOK = re.compile(r"^(\w++)\.before(?:_app)?_request\([ \t]*+(\w++)[ \t]*+\)")
_ATTR = re.compile(
    r"^(permission_classes|authentication_classes|decorators|method_decorators)[ \t]*+"
    r"(?::[^=]{0,80})?=",
)
_NAMES = re.compile(r"[A-Za-z_][\w.]*+")
# A check the handler makes first thing (`require_admin_or_owner(alert.user_id)`,
# `self.check_object_permissions(request, obj)`): a guard of that route.
_BODY_GUARD = re.compile(
    r"^[ \t]*+(?:\w++\.)*+((?:require|check|ensure|verify|authorize|assert|enforce)\w*+)[ \t]*+\("
)
_BODY_CHECKS = 15  # first lines of a handler read for such a check
_OPT_OUT_NAMES = frozenset(
    {"AllowAny", "Public", "public", "login_not_required", "allow_anonymous", "skip_auth"}
)
_PLAIN_ROUTERS = frozenset(
    {"APIRouter", "Blueprint", "FastAPI", "Flask", "Namespace", "Api", "APIBlueprint", "Router"}
)
_VIEW_METHODS = {
    "get": "GET",
    "post": "POST",
    "put": "PUT",
    "patch": "PATCH",
    "delete": "DELETE",
    "list": "GET",
    "retrieve": "GET",
    "create": "POST",
    "update": "PUT",
    "partial_update": "PATCH",
    "destroy": "DELETE",
}
_VIEW_BASE = re.compile(r"View|Resource|Handler")
_GENERIC = (("List", "GET"), ("Retrieve", "GET"), ("Create", "POST"), ("Update", "PUT"))
_GENERIC_MORE = (("Destroy", "DELETE"), ("ModelViewSet", "ANY"), ("ReadOnly", "GET"))
# Bases the frameworks provide: they carry no guard of their own.
_FRAMEWORK_BASE = re.compile(
    r"^(?:object|APIView|View|ViewSet|GenericViewSet|ModelViewSet|ReadOnlyModelViewSet"
    r"|GenericAPIView|\w*APIView|\w*ModelMixin|MethodView|Resource|TemplateView|ListView"
    r"|DetailView|FormView|CreateView|UpdateView|DeleteView|RedirectView|\w*ViewSetMixin"
    r"|Generic|BaseModel|Enum|str|int|dict|Exception|Protocol|HTTPEndpoint)$"
)


_Decs = list[tuple[int, str]]  # pending decorators: (line index, joined text)


@dataclass
class _Class:
    name: str
    indent: int
    line: int
    bases: list[str]
    guards: list[Guard] = field(default_factory=list)
    carriers: list[str] = field(default_factory=list)
    opt_out: str = ""
    body: int = -1  # indentation of the class body, once seen
    has_methods: bool = False
    is_view: bool = False


@dataclass
class _Raw:
    route: Route
    obj: str  # router object name for decorator routes
    cls: _Class | None
    own_perms: bool  # the route sets its own permission classes (overriding the class's)


def _params(sig: str) -> list[str]:
    """The parameters of a `def` signature that take something from the request."""
    inner = sig[sig.find("(") + 1 : sig.rfind(")")]
    names = [p.split(":")[0].split("=")[0].strip() for p in inner.split(",")]
    return [n for n in names if n.lstrip("*") and n not in ("self", "cls")]


def _auth_alias(name: str) -> bool:
    return bool(_AUTH_ALIAS.match(name)) or name.endswith(_AUTH_ALIAS_END)


def _joined(lines: Sequence[str], start: int, end: int) -> str:
    return " ".join(ln[:MAX_LINE].strip() for ln in lines[start : end + 1])


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _list_names(text: str) -> list[str]:
    """The names inside the first [...] or (...) of `text` (`[IsAuthenticated, IsOwner]`)."""
    start = min((p for p in (text.find("["), text.find("(")) if p >= 0), default=-1)
    if start < 0:
        return []
    stop = text.find("]" if text[start] == "[" else ")", start)
    inner = text[start + 1 : stop if stop > 0 else len(text)]
    return [_last(n) for n in _NAMES.findall(inner)]


class _Reader:
    def __init__(self, path: str, text: str, judge: GuardJudge) -> None:
        self.path = path
        self.lines = text.split("\n")
        self.judge = judge
        parts = path.split("/")
        self.views_module = parts[-1] in ("views.py", "api.py") or "views" in parts[:-1]
        self.raws: list[_Raw] = []
        self.classes: dict[str, _Class] = {}
        self.routers: dict[str, tuple[list[Guard], list[str]]] = {}
        self.aliases: dict[str, str] = {}
        self.hooks: list[tuple[str, Guard]] = []  # (app or blueprint, before_request guard)

    def guard(self, name: str, line: int, scope: str) -> Guard:
        """The guard `name` declared by the statement starting at `line`, at the line naming it."""
        short = _last(name)
        for k in range(line, min(len(self.lines), line + MAX_JOIN)):
            if short in self.lines[k]:
                line = k
                break
        return Guard(short, line + 1, scope, self.lines[line].strip()[:200])

    def read(self) -> list[Route]:
        lines = self.lines
        pending: list[tuple[int, str]] = []
        stack: list[_Class] = []
        i = 0
        while i < len(lines):
            raw = lines[i][:MAX_LINE]
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                i += 1
                continue
            ind = indent_of(raw)
            while stack and stack[-1].indent >= ind:
                stack.pop()
            if stack and stack[-1].body < 0:
                stack[-1].body = ind
            if stripped.startswith("@"):
                end = join_balanced(lines, i)
                pending.append((i, _joined(lines, i, end)))
                i = end + 1
                continue
            if m := _CLASS.match(raw):
                end = join_balanced(lines, i, stop_at_colon=True)
                cls = self.open_class(m.group(2), ind, i, _joined(lines, i, end), pending)
                stack.append(cls)
                pending, i = [], end + 1
                continue
            if m := _DEF.match(raw):
                end = join_balanced(lines, i, stop_at_colon=True)
                owner = stack[-1] if stack and ind == stack[-1].body else None
                self.function(m.group(2), ind, i, end, pending, owner)
                pending, i = [], end + 1
                continue
            end = join_balanced(lines, i)
            self.statement(stripped, i, end, stack[-1] if stack else None, ind)
            pending, i = [], end + 1
        return self.finish()

    def open_class(self, name: str, ind: int, line: int, head: str, decs: _Decs) -> _Class:
        bases = [_last(b) for b in _NAMES.findall(head[head.find("(") :])] if "(" in head else []
        bases = [b for b in bases if b not in ("metaclass", "ABCMeta")]
        cls = _Class(name, ind, line, bases, is_view=any(_VIEW_BASE.search(b) for b in bases))
        for base in bases:
            parent = self.classes.get(base)
            if parent is not None:
                cls.guards += parent.guards
                cls.carriers += parent.carriers
                cls.is_view = cls.is_view or parent.is_view
            elif self.judge.is_guard(base):
                cls.guards.append(self.guard(base, line, "class"))
            elif not _FRAMEWORK_BASE.match(base) and self.judge.definition(base) == ():
                cls.carriers.append(base)  # defined out of sight: may carry a guard
        for n, text in decs:
            self.decorator_guards(text, n, "class", cls.guards)
        self.classes[name] = cls
        return cls

    def decorator_guards(self, text: str, line: int, scope: str, out: list[Guard]) -> str:
        """Adds the guards decorator `text` declares to `out`; returns an opt-out it declares."""
        m = _DEC.match(text)
        if m is None:
            return ""
        name = _last(m.group(1))
        if name in _OPT_OUT_NAMES:
            return name
        if name == "action":
            pm = re.search(r"permission_classes\s*+=\s*+[\[(]([^\])]{0,300})", text)
            for n in _NAMES.findall(pm.group(1)) if pm else ():
                if _last(n) == "AllowAny":
                    return "AllowAny"
                out.append(self.guard(n, line, scope))
            return ""
        if name in ("method_decorator", "permission_classes", "authentication_classes"):
            inner = text[text.find("(") :]
            names = _list_names(inner) if "[" in inner else _NAMES.findall(inner[1:])[:1]
            for n in names:
                if n == "AllowAny":
                    return n
                if name != "method_decorator" or self.judge.is_guard(n):
                    out.append(self.guard(n, line, scope))
            return ""
        for dm in _DEPENDS.finditer(text):
            if dm.group(1) == "Security" or self.judge.is_guard(dm.group(2)):
                out.append(self.guard(dm.group(2), line, scope))
        if self.judge.is_guard(m.group(1)):
            out.append(self.guard(m.group(1), line, scope))
        return ""

    def function(
        self, name: str, ind: int, i: int, end: int, pending: _Decs, cls: _Class | None
    ) -> None:
        lines = self.lines
        sig = _joined(lines, i, end)
        body_end = python_block_end(lines, end, ind)
        start = pending[0][0] if pending else i
        if any(
            t.split("(", 1)[0].endswith(("before_request", "before_app_request"))
            for _, t in pending
        ):
            self.hook(name, i, body_end, pending)
            return
        if cls is not None and name in ("get_permissions", "dispatch", "initial"):
            if name == "get_permissions" or refuses("\n".join(lines[i : body_end + 1])):
                cls.guards.append(self.guard(name, i, "class"))
            return
        route_dec = next(((n, t) for n, t in pending if _ROUTE.match(t)), None)
        guards: list[Guard] = []
        decorators: list[str] = []
        opt_out, own_perms, obj = "", False, ""
        methods: frozenset[str] = frozenset()
        path, line, framework = "", i, "fastapi-flask"
        for n, text in pending:
            if route_dec is not None and n == route_dec[0]:
                continue
            opt_out = self.decorator_guards(text, n, "route", guards) or opt_out
            if dm := _DEC.match(text):
                decorators.append(_last(dm.group(1)))
            own_perms = own_perms or text.startswith(("@permission_classes", "@action("))
        if route_dec is not None:
            n, text = route_dec
            rm = _ROUTE.match(text)
            assert rm is not None
            obj, verb = rm.group(1)[:-1], rm.group(2)
            pm = _PATH.search(text)
            path, line = (pm.group(1) if pm else ""), n
            methods = self.methods_of(verb, text)
            for dm in _DEPENDS.finditer(text):
                if dm.group(1) == "Security" or self.judge.is_guard(dm.group(2)):
                    guards.append(self.guard(dm.group(2), n, "route"))
        else:
            found = self.other_route(name, sig, pending, cls)
            if found is None:
                return
            framework, methods, path = found
        for dm in _DEPENDS.finditer(sig):
            if dm.group(1) == "Security" or self.judge.is_guard(dm.group(2)):
                guards.append(self.guard(dm.group(2), self.line_of(dm.group(2), i, end), "route"))
        for am in _ANNOTATION.finditer(sig):
            alias = am.group(1)
            dep = self.aliases.get(alias, "")
            if (dep and self.judge.is_guard(dep)) or (not dep and _auth_alias(alias)):
                dep = dep or alias
                guards.append(self.guard(dep, self.line_of(alias, i, end), "route"))
        for k in range(end + 1, min(body_end, end + _BODY_CHECKS) + 1):
            bm = _BODY_GUARD.match(lines[k][:MAX_LINE])
            if bm and self.judge.is_guard(bm.group(1)):
                guards.append(self.guard(bm.group(1), k, "route"))
        if cls is not None:
            cls.has_methods = True
        static = not _params(sig) and not re.search(r"[{<]", path)
        route = Route(
            framework=framework,
            line=line + 1,
            name=name,
            owner=cls.name if cls else "",
            methods=methods,
            path=path,
            start=start + 1,
            end=body_end + 1,
            guards=tuple(guards),
            opt_out=opt_out,
            static=static,
            decorators=tuple(decorators),
        )
        self.raws.append(_Raw(route, obj, cls, own_perms))

    def line_of(self, word: str, start: int, end: int) -> int:
        for k in range(start, end + 1):
            if word in self.lines[k]:
                return k
        return start

    def methods_of(self, verb: str, text: str) -> frozenset[str]:
        if verb in ("route", "api_route"):
            m = _LIST.search(text)
            return (
                frozenset(re.findall(r"[A-Za-z]+", m.group(1).upper())) if m else frozenset({"GET"})
            )
        return frozenset({verb.upper()})

    def other_route(
        self, name: str, sig: str, pending: _Decs, cls: _Class | None
    ) -> tuple[str, frozenset[str], str] | None:
        texts = [t for _, t in pending]
        if any(t.startswith("@api_view") for t in texts):
            t = next(t for t in texts if t.startswith("@api_view"))
            found = re.findall(r"[A-Za-z]+", t[len("@api_view") :].upper())
            return "drf", frozenset(found or ["GET"]), ""
        if cls is not None and any(t.startswith("@action(") or t == "@action" for t in texts):
            t = next(t for t in texts if t.startswith("@action"))
            m = _LIST.search(t)
            methods = re.findall(r"[A-Za-z]+", m.group(1).upper()) if m else ["GET"]
            return "drf", frozenset(methods), ""
        if cls is not None and cls.is_view and name in _VIEW_METHODS:
            return "drf", frozenset({_VIEW_METHODS[name]}), ""
        view = cls is None and self.views_module and not name.startswith("_")
        if view and re.search(r"\(\s*+request\b", sig):
            post = any("require_POST" in t for t in texts)
            return "django", frozenset({"POST" if post else "ANY"}), ""
        return None

    def hook(self, name: str, i: int, end: int, pending: _Decs) -> None:
        body = "\n".join(self.lines[i : end + 1])
        if self.judge.is_guard(name) or refuses(body):
            n, text = next((n, t) for n, t in pending if "before_" in t.split("(", 1)[0])
            obj = text[1:].split(".", 1)[0]
            self.hooks.append((obj, Guard(name, n + 1, "file", self.lines[n].strip()[:200])))

    def statement(self, stripped: str, i: int, end: int, cls: _Class | None, ind: int) -> None:
        text = _joined(self.lines, i, end)
        if cls is not None and ind == cls.body and (m := _ATTR.match(stripped)):
            names = _list_names(text[m.end() :])
            for n in names:
                if n == "AllowAny":
                    cls.opt_out = n
                elif m.group(1) != "decorators" or self.judge.is_guard(n):
                    cls.guards.append(self.guard(n, i, "class"))
            if m.group(1) == "permission_classes" and not names:
                cls.opt_out = "permission_classes = []"
            return
        if m := _ALIAS.match(stripped):
            dm = _DEPENDS.search(text)
            if dm is not None:
                self.aliases[m.group(1)] = dm.group(2)
            return
        if m := _CTOR.match(stripped):
            self.router(m.group(1), m.group(2), text, i)
            return
        if m := _DEPS_ADD.match(stripped):
            guards, _ = self.routers.setdefault(m.group(1), ([], []))
            for dm in _DEPENDS.finditer(text):
                if dm.group(1) == "Security" or self.judge.is_guard(dm.group(2)):
                    guards.append(self.guard(dm.group(2), i, "router"))
            return
        if (m := _HOOK.match(stripped)) and self.judge.is_guard(m.group(2)):
            self.hooks.append((m.group(1), self.guard(m.group(2), i, "file")))

    def router(self, obj: str, ctor: str, text: str, i: int) -> None:
        short = _last(ctor)
        guards: list[Guard] = []
        carriers: list[str] = []
        if short not in _PLAIN_ROUTERS:
            if not re.search(r"Router|Blueprint|router|blueprint|FastAPI|Namespace", short):
                return
            defs = self.judge.definition(short)
            if not defs:
                carriers.append(short)
            for d in defs:
                for dm in _DEPENDS.finditer(d.text):
                    if dm.group(1) == "Security" or self.judge.is_guard(dm.group(2)):
                        guards.append(Guard(_last(dm.group(2)), i + 1, "router", text[:200]))
            if self.judge.is_guard(short):
                guards.append(self.guard(short, i, "router"))
        for dm in _DEPENDS.finditer(text):
            if dm.group(1) == "Security" or self.judge.is_guard(dm.group(2)):
                guards.append(self.guard(dm.group(2), i, "router"))
        self.routers[obj] = (guards, carriers)

    def finish(self) -> list[Route]:
        out = []
        for raw in self.raws:
            r = raw.route
            guards = list(r.guards)
            carriers: list[str] = []
            opt_out = r.opt_out
            if raw.cls is not None:
                for g in raw.cls.guards:
                    perm = g.text.lstrip().startswith("permission_classes")
                    if not (perm and raw.own_perms):
                        guards.append(g)
                carriers += raw.cls.carriers
                opt_out = opt_out or (raw.cls.opt_out if not raw.own_perms else "")
            router_guards, router_carriers = self.routers.get(raw.obj, ([], []))
            guards += router_guards
            carriers += router_carriers
            if raw.obj:
                guards += [g for obj, g in self.hooks if obj in (raw.obj, "app")]
            out.append(
                Route(
                    r.framework,
                    r.line,
                    r.name,
                    r.owner,
                    r.methods,
                    r.path,
                    r.start,
                    r.end,
                    tuple(guards),
                    opt_out,
                    tuple(carriers),
                    static=r.static,
                    decorators=r.decorators,
                )
            )
        out += self.generic_views()
        return out

    def generic_views(self) -> list[Route]:
        """A DRF generic view or viewset declared without methods is itself the endpoint."""
        out = []
        for cls in self.classes.values():
            if cls.has_methods or not any("APIView" in b or "ViewSet" in b for b in cls.bases):
                continue
            methods = {v for b in cls.bases for k, v in (*_GENERIC, *_GENERIC_MORE) if k in b}
            out.append(
                Route(
                    "drf",
                    cls.line + 1,
                    cls.name,
                    cls.name,
                    frozenset(methods or {"ANY"}),
                    "",
                    cls.line + 1,
                    cls.line + 1,
                    tuple(cls.guards),
                    cls.opt_out,
                    tuple(cls.carriers),
                )
            )
        return out


def read_python(path: str, text: str, judge: GuardJudge) -> list[Route]:
    return _Reader(path, text, judge).read()
