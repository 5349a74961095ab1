"""The fake GitHub's request/answer types, route table entries and pagination."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from tests.fakes.github_json import error

if TYPE_CHECKING:
    from tests.fakes.github_objects import Repo, Token
    from tests.fakes.github_state import GitHubState

MAX_PER_PAGE = 100
MAX_BODY = 65536  # issue and review comment bodies
DEFAULT_PER_PAGE = 30


@dataclass
class Ctx:
    method: str
    path: str  # decoded, without the API prefix
    raw_path: str  # as sent (percent-encoded), without the API prefix
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    headers: dict[str, str]  # names lower-cased
    api: str  # the base URL clients use, e.g. http://127.0.0.1:5555 or .../api/v3
    repo: Repo | None = None
    token: Token | None = None

    def json_body(self) -> dict[str, Any]:
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise Fail(Reply(400, error("Problems parsing JSON", status=400)))
        return self.body

    def wants_diff(self) -> bool:
        accept = self.headers.get("accept", "")
        return "application/vnd.github.diff" in accept or "application/vnd.github.v3.diff" in accept


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON; ignored when `text` is set
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    media_type: str = "application/json; charset=utf-8"


class Fail(Exception):
    """Raised by a handler to answer with an error right away."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def not_found(doc: str = "") -> Fail:
    return Fail(Reply(404, error("Not Found", doc, 404)))


def invalid(doc: str, *errors: dict[str, Any]) -> Fail:
    return Fail(Reply(422, error("Validation Failed", doc, 422, errors=list(errors))))


Handler = Callable[["GitHubState", Ctx], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: str  # "jwt" (the App), "token" (an installation) or "none" (e.g. manifest conversions)
    perms: Sequence[tuple[str, str]] = ()  # any one of (permission, level) suffices


def route(
    table: list[Route], method: str, template: str, auth: str = "token", *perms: tuple[str, str]
) -> Callable[[Handler], Handler]:
    """Register a handler for `template` (`{name}` is one path segment, `{name+}` the rest)."""
    regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", template)
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)

    def register(handler: Handler) -> Handler:
        table.append(Route(method, re.compile(f"^{regex}$"), handler, auth, perms))
        return handler

    return register


def paginate(ctx: Ctx, items: Sequence[Any], *, wrap: str | None = None, **extra: Any) -> Reply:
    """One page of `items` with GitHub's absolute `Link` header (prev, next, last, first).

    `wrap` puts the page under that key next to `total_count` (the check-runs list shape)."""
    try:
        per_page = min(max(int(ctx.query.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
    except ValueError:
        per_page = DEFAULT_PER_PAGE
    try:
        page = max(int(ctx.query.get("page", 1)), 1)
    except ValueError:
        page = 1
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = list(items[(page - 1) * per_page : page * per_page])

    def link(number: int) -> str:
        query = dict(ctx.query) | {"per_page": str(per_page), "page": str(number)}
        return f"{ctx.api}{ctx.raw_path}?{urlencode(query)}"

    rels: list[str] = []
    if page > 1:
        rels.append(f'<{link(min(page - 1, last))}>; rel="prev"')
    if page < last:
        rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
    if page > 1:
        rels.append(f'<{link(1)}>; rel="first"')
    headers = {"link": ", ".join(rels)} if rels else {}
    body: Any = chunk if wrap is None else {"total_count": len(items), wrap: chunk, **extra}
    return Reply(200, body, headers)


def required_body(ctx: Ctx, resource: str, doc: str) -> str:
    """The request's `body` field, checked as GitHub checks comment bodies."""
    body = ctx.json_body().get("body")
    if not isinstance(body, str) or not body:
        raise invalid(doc, {"resource": resource, "code": "missing_field", "field": "body"})
    if len(body) > MAX_BODY:
        message = f"Body is too long (maximum is {MAX_BODY} characters)"
        raise invalid(
            doc, {"resource": resource, "code": "custom", "field": "body", "message": message}
        )
    return body
