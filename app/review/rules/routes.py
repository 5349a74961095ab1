"""Find HTTP endpoints in the visible lines of a file (FastAPI, Flask, DRF, Express, NestJS).

Only what the diff shows is read: an added file completely, a modified one through its hunks.
Guard detection is lexical: decorators, dependencies and middleware whose names say auth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from app.review.diff import DiffLine
from app.review.rules.hints import hinted
from app.review.rules.route_model import public_name

if TYPE_CHECKING:  # base builds a file's endpoints once, with find_endpoints
    from app.review.rules.base import ChangedFile

_PY_ROUTE = re.compile(
    r"^\s*@[\w.]+\.(get|post|put|patch|delete|route|api_route)\(\s*(?:(?:path|rule)\s*=\s*)?"
    r"[rfb]?['\"]([^'\"]*)['\"]"
)
_DRF_VIEW = re.compile(r"^\s*@api_view\(\s*[\[(]?([^\])]*)")
_DRF_METHOD = re.compile(r"^\s*(?:async\s+)?def (post|put|patch|create|update)\(self,\s*request")
_NEST_ROUTE = re.compile(r"^\s*@(Get|Post|Put|Patch|Delete|All)\(\s*(?:['\"`]([^'\"`]*)['\"`])?")
EXPRESS_ROUTE = re.compile(
    r"^\s*(?:app|router|\w+Router|api|server|routes)\.(get|post|put|patch|delete|all)\(\s*"
    r"['\"`](/[^'\"`]*)['\"`]\s*,?(.*)$"
)
_PY_DEF = re.compile(r"^(\s*)(?:async\s+)?def (\w+)")
_NEST_METHOD = re.compile(r"^\s*(?:public\s+|private\s+)?(?:async\s+)?(\w+)\s*\(")

GUARD = re.compile(
    # A decorator (`@name`, `@module.name`) whose name ends with a guard's name, or holds
    # "auth" and ends with "_required". The name is read once, possessively, and its ending
    # checked by look-behinds: `@\w*(\w*auth\w*_required)` tried every split of a long
    # name ("@authauth...": 32 s for 6,400 characters).
    r"@(?:\w*+\.)?((?=\w*?auth)\w*+(?<=_required)|\w*+(?:"
    r"(?<=login_required)"
    r"|(?<=jwt_required)"
    r"|(?<=token_required)"
    r"|(?<=permission_required)"
    r"|(?<=requires_auth)"
    r"|(?<=roles_required)"
    r"|(?<=roles_accepted)"
    r"|(?<=admin_required)"
    r"|(?<=staff_member_required)"
    r"|(?<=user_passes_test)"
    r"|(?<=authenticated)"
    r"|(?<=requires)"
    r"))"
    r"|Depends\(\s*[\w.]*(auth|user|current|token|permission|admin|principal|verify|require|scope"
    r"|role)\w*"
    r"|\bSecurity\(\s*\w+"
    r"|permission_classes\s*=\s*[\[(]\s*(?!AllowAny)\w+"
    r"|@permission_classes\(\s*[\[(]\s*(?!AllowAny)\w+"
    r"|@UseGuards\([^)]{0,256}\)|@Roles\(|@Auth\("
    r"|\bIsAuthenticated\w*|LoginRequiredMixin|PermissionRequiredMixin",
    re.I,
)
MIDDLEWARE = re.compile(
    r"\b(\w*auth\w*|requireLogin|requireUser|isLoggedIn|ensure\w+|protect\w*|verify\w*Token"
    r"|checkJwt|jwt\w*|\w*guard\w*|authorize\w*|requireRole\w*|isAdmin|requirePermission\w*"
    r"|passport\.authenticate\([^)]{0,256}\))\b",
    re.I,
)


@dataclass(frozen=True)
class Endpoint:
    line: int  # new-file line of the declaration
    is_new: bool  # the declaration is an added line
    methods: frozenset[str]
    path: str
    name: str
    head: str  # declaration, decorators and signature: where guards live
    body: tuple[DiffLine, ...]  # declaration to the end of the handler, as far as visible
    framework: str

    @property
    def public(self) -> bool:
        return public_name(self.path, self.name)

    @cached_property
    def guards(self) -> list[str]:
        found = [m.group(0) for m in GUARD.finditer(self.head)]
        if self.framework == "express":
            args = self.head.split(",", 1)[1] if "," in self.head else ""
            found += [m.group(0) for m in MIDDLEWARE.finditer(args)]
        return found


def _methods(kind: str, head: str) -> frozenset[str]:
    kind = kind.upper()
    if kind in ("ROUTE", "API_ROUTE"):
        m = re.search(r"methods\s*=\s*[\[(]([^\])]*)", head)
        return frozenset(re.findall(r"\w+", m.group(1).upper())) if m else frozenset({"GET"})
    if kind in ("CREATE", "UPDATE"):
        return frozenset({"POST" if kind == "CREATE" else "PUT"})
    return frozenset({kind})


def _contiguous(lines: tuple[DiffLine, ...], start: int, stop: int) -> int:
    """The last index before `stop` that follows `start` with no gap in line numbers."""
    end = start
    while end + 1 < stop and (lines[end + 1].new_no or 0) == (lines[end].new_no or 0) + 1:
        end += 1
    return end


def is_route_line(text: str) -> bool:
    """Whether `text` declares an endpoint (any framework this module knows)."""
    return any(p.match(text) for p in (_PY_ROUTE, _DRF_VIEW, _NEST_ROUTE, EXPRESS_ROUTE))


def _python_block_end(lines: tuple[DiffLine, ...], head_end: int, end: int, indent: int) -> int:
    for k in range(head_end + 1, end + 1):
        text = lines[k].text
        if text.strip() and len(text) - len(text.lstrip()) <= indent:
            return k - 1
    return end


# What a line declaring an endpoint must contain: "@" (a decorator), or for Python the
# "(self," of a DRF method and elsewhere the `.get('/` of an Express route.
_PY_HINTS = ("@", "(self,")
_JS_HINT = re.compile(r"\.(?:get|post|put|patch|delete|all)\(\s*['\"`]/")


def find_endpoints(f: ChangedFile) -> list[Endpoint]:
    """The endpoints `f` declares in its visible lines; `ChangedFile.endpoints` caches this."""
    lines = f.visible
    starts: list[tuple[int, str, str, str]] = []  # (index, framework, kind, path)
    python = f.path.endswith(".py")
    js_hint = None if python else _JS_HINT
    words = _PY_HINTS if python else ("@",)
    if not hinted(f.new_text, words, js_hint):
        return []
    for i, ln in enumerate(lines):
        text = ln.text
        if not hinted(text, words, js_hint):
            continue
        if python:
            if m := _PY_ROUTE.match(text):
                starts.append((i, "python", m.group(1), m.group(2)))
            elif m := _DRF_VIEW.match(text):
                kinds = re.findall(r"\w+", m.group(1)) or ["GET"]
                starts.append((i, "drf", ",".join(kinds), ""))
            elif m := _DRF_METHOD.match(text):
                starts.append((i, "drf-method", m.group(1), ""))
        elif m := _NEST_ROUTE.match(text):
            starts.append((i, "nest", m.group(1), m.group(2) or ""))
        elif m := EXPRESS_ROUTE.match(text):
            starts.append((i, "express", m.group(1), m.group(2)))
    endpoints = []
    for n, (i, framework, kind, path) in enumerate(starts):
        stop = min(starts[n + 1][0] if n + 1 < len(starts) else len(lines), i + 80)
        end = _contiguous(lines, i, stop)
        # Decorators stacked above the route decorator belong to its head.
        first = i
        while first > 0 and lines[first - 1].text.lstrip().startswith("@"):
            first -= 1
        head_end, name = i, ""
        for j in range(i, end + 1):
            text = lines[j].text
            if framework in ("python", "drf", "drf-method") and (m := _PY_DEF.match(text)):
                head_end, name = j, m.group(2)
                # the signature may continue until the line ending with ":"
                while head_end < end and not lines[head_end].text.rstrip().endswith(":"):
                    head_end += 1
                end = _python_block_end(lines, head_end, end, len(m.group(1)))
                break
            if framework == "nest" and j > i and not text.lstrip().startswith("@"):
                m = _NEST_METHOD.match(text)
                head_end, name = j, m.group(1) if m else ""
                break
            if framework == "express" and ("=>" in text or "function" in text):
                head_end = j
                break
        head = "\n".join(ln.text for ln in lines[first : head_end + 1])
        if framework == "drf":
            methods = frozenset(k.upper() for k in kind.split(","))
        else:
            methods = _methods(kind, head)
        endpoints.append(
            Endpoint(
                line=lines[i].new_no or 1,
                is_new=lines[i].kind == "added",
                methods=methods,
                path=path,
                name=name,
                head=head,
                body=lines[i : end + 1],
                framework=framework,
            )
        )
    return endpoints
