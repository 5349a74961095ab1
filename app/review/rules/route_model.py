"""What the route readers produce: each endpoint of a whole file with the guards that cover it.

A `Guard` is one declaration (a decorator, a dependency, `permission_classes`, a `before_action`,
a middleware) at the line that declares it, with the scope it covers: the route itself, its
class, its router, or the whole file. A `Route` carries its effective guards, every scope
merged, so comparing a route at the base with the same route at the head says whether a guard
went away or only moved (from the route into its router, class or a base class).

Which names are guards is decided by `app.review.rules.guard_words` from the name and, for the
project's own decorators and dependencies, from what their definition does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Scope = str  # "route" | "class" | "router" | "file"

# Paths and names of endpoints public by design: health checks, sign-in and sign-up, webhooks,
# API docs and static lists. At most a question when they lack a guard.
PUBLIC = re.compile(
    r"health|ready|live|\bping\b|/status\b|metrics|log_?in|log_?out|sign_?(in|up|out)|register"
    r"|/token|oauth|callback|webhook|hook|/docs|openapi|swagger|redoc|public|password"
    r"|verify[_-]?email|confirm(?:ed)?[_-]?email|/version|robots|favicon|well-known|sitemap"
    r"|monitoring|prometheus|countr(y|ies)|currenc(y|ies)|languages|locales|timezones|pricing"
    r"|plans\b|catalog|session|refresh|AuthController|auth_controller|unsubscribe",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Guard:
    name: str  # normalised: get_current_user, IsAuthenticated, authenticate_user!, requireAuth
    line: int  # 1-based line of the declaration in the text it was read from
    scope: Scope
    text: str  # the declaring line, stripped


@dataclass(frozen=True, slots=True)
class Route:
    framework: str  # fastapi-flask | drf | django | rails | nest | express
    line: int  # the route's declaration line (route decorator, action def, express call)
    name: str  # handler, method or action name; "" when anonymous
    owner: str  # class, controller or router object the route belongs to
    methods: frozenset[str]  # HTTP methods; {"ANY"} when the file does not say
    path: str  # the route's path when the file says it
    start: int  # first line of the route (its first decorator)
    end: int  # last line of its handler body
    guards: tuple[Guard, ...] = ()  # effective: route, class, router and file scopes
    opt_out: str = ""  # an explicit opt-out on this route (AllowAny, @Public()…), if any
    carriers: tuple[str, ...] = ()  # names that may carry a guard out of sight (custom router)
    handler: str = ""  # a handler referenced by name (Express `router.post('/x', ctrl.create)`)
    static: bool = False  # takes nothing from the request: no parameters, no path variables
    decorators: tuple[str, ...] = ()  # the route's own decorator names (guards or not)

    @property
    def key(self) -> tuple[str, str]:
        """Identity across base and head: the owner and the handler name, else methods + path."""
        if self.name:
            return (self.owner, self.name)
        return (self.owner, f"{'/'.join(sorted(self.methods))} {self.path}")

    @property
    def public(self) -> bool:
        return any(PUBLIC.search(t) for t in (self.path, self.name, self.owner) if t)

    @property
    def label(self) -> str:
        methods = "/".join(sorted(self.methods))
        where = self.path or (f"{self.owner}.{self.name}" if self.owner else self.name)
        return f"{methods} {where}".strip()

    def guard_names(self) -> frozenset[str]:
        return frozenset(g.name for g in self.guards) | frozenset(self.carriers)
