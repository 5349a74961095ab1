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
# API docs and static lists. At most a question when they lack a guard. Each must be a whole
# word of the path or name (split at `/ - _ .` and camelCase): as a bare substring "live"
# matched `delivery`, "ready" `already`, "public" `publications`. A password is public only
# where it is reset or forgotten: `PUT /users/{id}/password` sets someone's password.
_ANY_PLACE = (
    r"health(?:z|check)?|ready|readyz|readiness|live|livez|liveness|ping|metrics"
    r"|log_?in|log_?out|sign_?(?:in|up|out)|register|oauth\d?|callback|webhooks?"
    r"|openapi|swagger|redoc|public|robots|favicon|well_known|sitemap|monitoring|prometheus"
    r"|password_?(?:reset|forgot|forgotten|recovery)s?|(?:reset|forgot|forgotten|lost)_?password"
    r"|verify_?email|confirm(?:ed)?_?email|countr(?:y|ies)|currenc(?:y|ies)|languages|locales"
    r"|timezones|pricing|plans|catalog|sessions?|refresh|unsubscribe"
)
_WHOLE = r"(?<![a-z0-9])(?:{})(?![a-z0-9])"
# Words that say "public" only as a path segment: `update_status` is no status page.
PUBLIC_PATH = re.compile(_WHOLE.format(_ANY_PLACE + r"|status|token|docs|version|hooks?"))
PUBLIC_NAME = re.compile(_WHOLE.format(_ANY_PLACE + r"|hooks?|auth_controller"))
# Word starts: `handleWebhook`, and an acronym's end (`SSOCallback`, `JWTLogin`).
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATOR = re.compile(r"[-_/.]")
# A path variable: FastAPI `{id}`, Flask `<int:id>`, Express `/:id`. Its name is not a word of
# the path (`{token_id}` says nothing of a public route); a variable that is a token (a reset
# or confirmation link's `{token}`, `<reset_token>`) or a signature is the caller's credential.
_PATH_PARAMETER = re.compile(r"\{(\w*+)[^}/]{0,100}+\}?+|<(?:\w++:)?(\w*+)>?+|/:(\w*+)")
_CREDENTIAL = re.compile(r"token$|^signature$|^sig$")


def _words(text: str) -> str:
    """`text` in lower case with its words joined by `_`: `handleWebhook` -> `handle_webhook`,
    `/.well-known/jwks.json` -> `__well_known_jwks_json`."""
    return _SEPARATOR.sub("_", _CAMEL.sub("_", text[:300])).lower()


def path_parameters(path: str) -> list[str]:
    """The names of `path`'s variables, in lower case."""
    return ["".join(m.groups("")).lower() for m in _PATH_PARAMETER.finditer(path[:300])]


def public_name(path: str, name: str, owner: str = "") -> bool:
    """Whether the path, handler or owner names an endpoint public by design."""
    if path:
        if any(_CREDENTIAL.search(p) for p in path_parameters(path)):
            return True
        if PUBLIC_PATH.search(_words(_PATH_PARAMETER.sub("/", path[:300]))):
            return True
    return any(PUBLIC_NAME.search(_words(t)) for t in (name, owner) if t)


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
        return public_name(self.path, self.name, self.owner)

    @property
    def targets_one(self) -> bool:
        """Whether the path names one resource (`{id}`, `<id>`, `:id`): a write there changes
        something that belongs to someone, whatever the route is called."""
        found = path_parameters(self.path)
        return bool(found) and not any(_CREDENTIAL.search(p) for p in found)

    @property
    def label(self) -> str:
        methods = "/".join(sorted(self.methods))
        where = self.path or (f"{self.owner}.{self.name}" if self.owner else self.name)
        return f"{methods} {where}".strip()

    def guard_names(self) -> frozenset[str]:
        return frozenset(g.name for g in self.guards) | frozenset(self.carriers)
