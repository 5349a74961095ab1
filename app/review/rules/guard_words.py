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
from collections.abc import Callable, Iterable, Mapping, Sequence

from app.review.rules.code_text import Definition

# Words that make a name a guard whatever else it says.
_STRONG = re.compile(
    r"auth|log_?in|logged|sign(?:ed)?_?in|permi|admin|staff|superuser|role|guard|jwt|bearer"
    r"|api_?key|acl|polic|privilege|_required$|_only$",
    re.I,
)
# Words that make a name a guard unless it only loads a record (`set_account`, `load_member`).
_WEAK = re.compile(
    r"scope|token|principal|owner|member|access|protect|restrict|verif|secure|entitle", re.I
)
_LOADER = re.compile(r"^(?:set|load|find|fetch|build|assign|prepare|populate|lookup)_", re.I)
_PREFIX = re.compile(r"^(?:is|has|can|must)(?:_|[A-Z])")
_USER_END = re.compile(r"(?:user|account|principal|identity|claims)(?:_id)?$", re.I)
_NOT_USER = re.compile(r"service|repo|crud|dao|store|manager|client|factory|schema|serial|form")
_NOT_GUARD = re.compile(
    r"^Api[A-Z]|csrf|authenticity_token|^require_(?:http_methods|get|post|safe)$|session_scope"
    r"|^access_log|^(?:get_)?(?:db_|async_|scoped_)?session(?:_?maker|local)?$|scoped_session"
    r"|^token_urlsafe$|^(?:use_)?(?:swagger|openapi|extend_schema)",
    re.I,
)
# A guard's body asks who is calling and refuses when the answer is wrong: a condition on
# the user, session, token or permissions, with a refusal (401/403, PermissionDenied, abort,
# a redirect to login, an exception) on that line or the next three.
_ASKS = re.compile(
    r"is_authenticated|isAuthenticated|current_?user|currentUser|request\.user|req\.user"
    r"|g\.user|session|token|authori[sz]ation|credential|jwt|api_?key|\buser\b|\brole"
    r"|permission|has_perm|is_staff|is_superuser|is_admin|isAdmin|logged_in|signed_in"
    r"|\baccount\b|member|owner",
    re.I,
)
_CONDITION = re.compile(r"\b(?:if|unless|elif)\b")
_REFUSAL = re.compile(
    r"\b40[13]\b|unauthori[sz]ed|forbidden|PermissionDenied|NotAuthenticated"
    r"|AuthenticationFailed|\babort\(|login|\braise\b|\bthrow\b|HTTP_40[13]|\bden(?:y|ied)"
    r"|\breject|head\s++:unauthorized|not_found",
    re.I,
)
_BODY_LINES = 200


def refuses(text: str) -> bool:
    """Whether a body refuses requests on a condition about who is asking (a guard)."""
    lines = text.split("\n", _BODY_LINES)[:_BODY_LINES]
    for i, line in enumerate(lines):
        asks = _CONDITION.search(line) and _ASKS.search(line)
        if asks and any(_REFUSAL.search(ln) for ln in lines[i : i + 4]):
            return True
    return False


def auth_name(name: str) -> bool:
    """Whether `name` (no arguments) reads as an auth guard by itself."""
    last = name.rsplit(".", 1)[-1]
    if not last or _NOT_GUARD.search(last):
        return False
    if _STRONG.search(name):
        return True
    if _LOADER.match(last):
        return False
    if _WEAK.search(name) or _PREFIX.match(last):
        return True
    return bool(_USER_END.search(last)) and not _NOT_USER.search(last.lower())


# Decorators whose effect is known and is not access control: docs, HTTP verbs and codes,
# caching, transactions, throttling, serialisation, logging.
_PLAIN_DECORATOR = re.compile(
    r"^(?:Api[A-Z]\w*+|Get|Post|Put|Patch|Delete|All|Head|Options|HttpCode|Header|Redirect"
    r"|Render|Version|UsePipes|UseInterceptors|UseFilters|Sse|Throttle|SkipThrottle|Serialize"
    r"|SerializeOptions|Cache\w*+|swagger_auto_schema|extend_schema\w*+|doc|marshal\w*+"
    r"|expect|response|responses|cache\w*+|cached|memoize|atomic|transaction\w*+|route"
    r"|deprecated|limiter|limit|ratelimit|rate_limit|retry|log\w*+|trace\w*+|timed|timer"
    r"|csrf_exempt|never_cache|vary_on_\w*+|require_(?:http_methods|GET|POST|safe)"
    r"|staticmethod|classmethod|property|action|validate\w*+|use_kwargs|use_args|paginate\w*+"
    r"|instrument\w*+|measure\w*+|wraps|override|abstractmethod)$"
)


def plain_decorator(name: str) -> bool:
    """Whether decorator `name` is known not to be about access (docs, verbs, caching…)."""
    return _PLAIN_DECORATOR.match(name.rsplit(".", 1)[-1]) is not None


class GuardJudge:
    """Decides whether names are guards, reading definitions found in the change's files."""

    def __init__(self, defs: Callable[[], Mapping[str, Sequence[Definition]]]) -> None:
        self._defs = defs  # read on the first name that needs a definition
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
        return any(refuses(d.text) for d in self._defs().get(last, ()))

    def definition(self, name: str) -> Sequence[Definition]:
        return self._defs().get(name.rsplit(".", 1)[-1], ())


def index(defs: Iterable[Definition]) -> dict[str, list[Definition]]:
    out: dict[str, list[Definition]] = {}
    for d in defs:
        out.setdefault(d.name, []).append(d)
    return out


PLAIN = GuardJudge(dict)  # names only: no definitions known
