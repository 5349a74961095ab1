"""Which names are auth guards: by what the name says, or by what its definition does.

There is no fixed list of guards. A decorator, dependency, middleware or `before_action` is a
guard when its name speaks of authentication or authorisation (`superuser_required`,
`check_org_access`, `requireRole`, `authenticate_user!`), or when the project defines it in a
file we can read (the change, or a module gathered with it) and its body refuses requests
(401/403, `PermissionDenied`, a redirect to login, a check of the current user).
Documentation decorators (`@ApiBearerAuth()`), HTTP-method filters (`require_POST`) and
database sessions (`Depends(get_session)`) are not guards even though their names come close.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from app.review.rules.code_text import Definition

_AUTH = re.compile(
    r"auth|log_?in|logged|sign(?:ed)?_?in|permi|admin|staff|superuser|role|scope|guard|jwt|token"
    r"|bearer|api_?key|principal|owner|member|access|acl|polic|protect|restrict|verif|secure"
    r"|privilege|entitle|_required$|_only$",
    re.I,
)
_PREFIX = re.compile(r"^(?:is|has|can|must)(?:_|[A-Z])")
_USER_END = re.compile(r"(?:user|account|principal|identity|claims)(?:_id)?$", re.I)
_NOT_USER = re.compile(r"service|repo|crud|dao|store|manager|client|factory|schema|serial|form")
_NOT_GUARD = re.compile(
    r"^Api[A-Z]|csrf|authenticity_token|^require_(?:http_methods|get|post|safe)$|session_scope|^access_log"
    r"|^(?:get_)?(?:db_|async_|scoped_)?session(?:_?maker|local)?$|scoped_session"
    r"|^token_urlsafe$|^(?:use_)?(?:swagger|openapi|extend_schema)",
    re.I,
)
# What a guard's body does: refuse (401/403, PermissionDenied, abort) or check who is asking.
_REFUSES = re.compile(
    r"\b40[13]\b|unauthori[sz]ed|forbidden|permission|not[ _]authenticated|is_authenticated"
    r"|isAuthenticated|login|credentials|PermissionDenied|NotAuthenticated|\bjwt\b|bearer"
    r"|current_user|request\.user|req\.user|authori[sz]",
    re.I,
)


def refuses(text: str) -> bool:
    """Whether a body refuses requests or checks who is asking (a guard's definition)."""
    return _REFUSES.search(text) is not None


def auth_name(name: str) -> bool:
    """Whether `name` (no arguments) reads as an auth guard by itself."""
    last = name.rsplit(".", 1)[-1]
    if not last or _NOT_GUARD.search(last):
        return False
    if _AUTH.search(name) or _PREFIX.match(last):
        return True
    return bool(_USER_END.search(last)) and not _NOT_USER.search(last.lower())


class GuardJudge:
    """Decides whether names are guards, reading definitions found in the change's files."""

    def __init__(self, defs: Mapping[str, Sequence[Definition]]) -> None:
        self._defs = defs
        self._seen: dict[str, bool] = {}

    def is_guard(self, name: str) -> bool:
        if not name:
            return False
        if name not in self._seen:
            self._seen[name] = auth_name(name) or self._refuses(name)
        return self._seen[name]

    def _refuses(self, name: str) -> bool:
        last = name.rsplit(".", 1)[-1]
        if _NOT_GUARD.search(last):
            return False
        return any(refuses(d.text) for d in self._defs.get(last, ()))

    def definition(self, name: str) -> Sequence[Definition]:
        return self._defs.get(name.rsplit(".", 1)[-1], ())


def index(defs: Iterable[Definition]) -> dict[str, list[Definition]]:
    out: dict[str, list[Definition]] = {}
    for d in defs:
        out.setdefault(d.name, []).append(d)
    return out


PLAIN = GuardJudge({})  # names only: no definitions known
