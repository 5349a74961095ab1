"""A stateful fake of GitHub's REST API as an ASGI app, in-process or on a loopback port.

    fake = FakeGitHub()
    repo = fake.add_repo("acme/payments")
    fake.set_file(repo, "main", ".github/backend-review.yml", "fail_on: major\\n")
    pr = fake.add_pull(repo, diff=DIFF)
    gh = GitHub(AppAuthStrategy(fake.app_id, fake.private_key_pem), base_url="http://github.test/",
                async_transport=fake.transport(), ...)     # in-process
    with serve(fake) as base_url: ...                       # real HTTP on 127.0.0.1 (port 0)
    fake.reviews_on(repo, pr.number)                        # what the bot posted
    fake.calls                                              # every request, in order

Authentication is GitHub's: the `/app...` routes and `/repos/{o}/{r}/installation` want the
App's JWT (RS256 with the fake's key, `iss` the App id, `iat` in the past, `exp` no more than
10 minutes ahead); everything else an installation token (`token ghs_...` or `Bearer ghs_...`)
issued by `POST /app/installations/{id}/access_tokens`, not revoked nor expired: else 401
"Bad credentials". A valid token for an installation that does not cover the repository gets
404 (GitHub hides private repositories), and one without the permission a route needs gets
403 "Resource not accessible by integration". Every answer carries `x-ratelimit-*` headers;
installation requests count down `rate_remaining` and at 0 get GitHub's primary-limit 403.

Faults (`fail_next`, `secondary_rate_limit_next`, `primary_rate_limit_next`, `hang_next`,
`delay_next`) answer the next request(s) matching a method and a path regex before anything
else, and are logged like any answer. Over ASGITransport httpx enforces no timeout, so a hang
there lasts until `release_hangs()` (or `max_hang` seconds): test timeouts over `serve()`.

The fake keeps its own clock (`advance(seconds)`, `expire_token`, `token_ttl`): tokens expire
and JWTs are judged by it, so moving it far makes a client's fresh JWT look skewed, as it would
against a GitHub whose clock differs from yours.

A fault in the fake itself, or a test that forgot to give it something (a diff to compare),
is answered 500 and kept in `errors`; `serve()` re-raises it on exit, and in-process tests
should assert `fake.errors == []`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import httpx
import jwt
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tests.fakes import (
    github_checks,
    github_comments,
    github_git,
    github_graphql,
    github_reviews,
    github_routes,
)
from tests.fakes.github_deliveries import ROUTES as DELIVERY_ROUTES
from tests.fakes.github_http import Ctx, Fail, Reply, Route
from tests.fakes.github_json import error
from tests.fakes.github_manifest import ROUTES as MANIFEST_ROUTES
from tests.fakes.github_objects import Token
from tests.fakes.github_routes import SetupError, level_allows
from tests.fakes.github_state import GitHubState

ROUTES: list[Route] = [
    *github_routes.ROUTES,
    *github_reviews.ROUTES,
    *github_comments.ROUTES,
    *github_checks.ROUTES,
    *github_graphql.ROUTES,
    *github_git.ROUTES,
    *DELIVERY_ROUTES,
    *MANIFEST_ROUTES,
]
HOST = "127.0.0.1"
RATE_LIMIT = 5000
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {id}."
)


@dataclass
class Call:
    """One request as the fake saw it (no credentials kept)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    accept: str
    auth: str | None  # "jwt", "token" or None
    status: int | None = None  # None while it is still being answered
    fault: bool = False


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    delay: float = 0.0  # seconds before answering; math.inf until release_hangs()
    passthrough: bool = False  # after the delay, answer as usual


class FakeGitHub(GitHubState):
    def __init__(self, *, api_prefix: str = "", max_hang: float = 60.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_prefix = api_prefix.rstrip("/")  # e.g. "/api/v3" to look like GHES
        self.max_hang = max_hang
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.errors: list[BaseException] = []
        self.rate_limit = RATE_LIMIT
        self.rate_remaining = RATE_LIMIT
        self._released = threading.Event()

    # --- for tests ------------------------------------------------------------------------------

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self)

    def calls_to(self, method: str, path_regex: str) -> list[Call]:
        pattern = re.compile(path_regex)
        return [c for c in self.calls if c.method == method and pattern.search(c.path)]

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        times: int = 1,
    ) -> Fault:
        """Answer the next `times` matching requests with this instead of serving them."""
        if body is None:
            body = error(HTTPStatus(status).phrase, "", status)
        fault = Fault(
            method.upper(), re.compile(path_regex), status, body, dict(headers or {}), times
        )
        self.faults.append(fault)
        return fault

    def secondary_rate_limit_next(
        self, method: str, path_regex: str, *, retry_after: int = 1, times: int = 1
    ) -> Fault:
        body = error(
            SECONDARY_MESSAGE.format(id="F00D:CAFE:1234"),
            "/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            403,
        )
        return self.fail_next(
            method, path_regex, 403, body, {"retry-after": str(retry_after)}, times=times
        )

    def primary_rate_limit_next(
        self, method: str, path_regex: str, *, reset_in: int = 60, times: int = 1
    ) -> Fault:
        install = next(iter(self.installations), 0)
        body = error(
            f"API rate limit exceeded for installation ID {install}.",
            "/overview/rate-limits-for-the-rest-api#about-rate-limits",
            403,
        )
        reset = str(int(self.now().timestamp()) + reset_in)
        headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
        return self.fail_next(method, path_regex, 403, body, headers, times=times)

    def hang_next(self, method: str, path_regex: str, *, times: int = 1) -> Fault:
        """The next matching request gets no answer until `release_hangs()` (then a 504)."""
        fault = self.fail_next(method, path_regex, 504, times=times)
        fault.delay = math.inf
        return fault

    def delay_next(self, method: str, path_regex: str, seconds: float, *, times: int = 1) -> Fault:
        """The next matching request is served as usual, `seconds` late."""
        fault = self.fail_next(method, path_regex, 200, times=times)
        fault.delay, fault.passthrough = seconds, True
        return fault

    def release_hangs(self) -> None:
        self._released.set()

    # --- ASGI -----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        reply = await self._answer(request, await request.body())
        await self._send(reply, scope, receive, send)

    async def _send(self, reply: Reply, scope: Scope, receive: Receive, send: Send) -> None:
        headers = self._rate_headers() | reply.headers
        headers.setdefault("x-github-media-type", "github.v3; format=json")
        headers.setdefault("x-github-request-id", f"F00D:{len(self.calls):06X}")
        if reply.text is not None:
            content = reply.text.encode()
        elif reply.status == 204 or reply.body is None:
            content = b""
        else:
            content = json.dumps(reply.body).encode()
        media = reply.media_type if content else None
        response = Response(content, reply.status, headers=headers, media_type=media)
        await response(scope, receive, send)

    def _rate_headers(self) -> dict[str, str]:
        reset = int(self.now().timestamp()) // 3600 * 3600 + 3600
        return {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(self.rate_remaining),
            "x-ratelimit-used": str(self.rate_limit - self.rate_remaining),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "core",
        }

    async def _answer(self, request: Request, raw: bytes) -> Reply:
        path = request.url.path
        raw_path = request.scope.get("raw_path", path.encode()).decode("latin-1").split("?")[0]
        if self.api_prefix and path == "/api/graphql":  # GHES: GraphQL is beside /api/v3
            path = raw_path = "/graphql"
        elif self.api_prefix:
            if not path.startswith(self.api_prefix + "/"):
                return Reply(404, error("Not Found", "", 404))
            path, raw_path = path[len(self.api_prefix) :], raw_path[len(self.api_prefix) :]
        method = request.method.upper()
        headers = {k.lower(): v for k, v in request.headers.items()}
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        auth = None if not credential else "token" if credential.startswith("ghs_") else "jwt"
        try:
            body = json.loads(raw) if raw else None
            bad_json = False
        except ValueError:
            body, bad_json = None, True
        call = Call(method, path, dict(request.query_params), body, headers.get("accept", ""), auth)
        with self.lock:
            self.calls.append(call)
            fault = self._take_fault(method, path)
        if fault is not None:
            await self._wait(fault.delay)
        if fault is not None and not fault.passthrough:
            call.status, call.fault = fault.status, True
            return Reply(fault.status, fault.body, dict(fault.headers))
        if bad_json:
            reply = Reply(400, error("Problems parsing JSON", "", 400))
        else:
            api = str(request.base_url).rstrip("/") + self.api_prefix
            ctx = Ctx(method, path, raw_path, {}, call.query, body, headers, api)
            with self.lock:
                try:
                    reply = self._serve(ctx, scheme.lower(), credential)
                except Exception as exc:  # noqa: BLE001 - a bug in the fake: kept in errors
                    self.errors.append(exc)
                    reply = Reply(500, error(f"FakeGitHub failed: {type(exc).__name__}: {exc}"))
        call.status = reply.status
        return reply

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method in (method, "*") and fault.path.search(path):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    async def _wait(self, delay: float) -> None:
        deadline = time.monotonic() + min(delay, self.max_hang)
        hang = delay == math.inf
        # Polling a threading.Event: the test thread releases hangs served on another loop.
        while time.monotonic() < deadline and not (hang and self._released.is_set()):  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    # --- routing and auth -----------------------------------------------------------------------

    def _serve(self, ctx: Ctx, scheme: str, credential: str) -> Reply:
        for candidate in ROUTES:
            if candidate.method == ctx.method and (match := candidate.pattern.match(ctx.path)):
                ctx.params = dict(match.groupdict())
                try:
                    return self._dispatch(candidate, ctx, scheme, credential)
                except Fail as fail:
                    return fail.reply
                except SetupError as exc:
                    self.errors.append(exc)
                    return Reply(500, error(f"FakeGitHub setup: {exc}"))
        return Reply(404, error("Not Found", "", 404))

    def _dispatch(self, chosen: Route, ctx: Ctx, scheme: str, credential: str) -> Reply:
        if chosen.auth == "none":  # e.g. the manifest conversion: the code is the credential
            return chosen.handler(self, ctx)
        if chosen.auth == "jwt":
            problem = self._jwt_problem(credential if scheme == "bearer" else "")
            if problem:
                return Reply(401, error(problem, "", 401))
        else:
            token = self.tokens.get(credential) if scheme in ("token", "bearer") else None
            if token is None or token.revoked or token.expires_at <= self.now():
                return Reply(401, error("Bad credentials", "", 401))
            ctx.token = token
            if self.rate_remaining <= 0:
                message = f"API rate limit exceeded for installation ID {token.installation_id}."
                return Reply(403, error(message, "/overview/rate-limits-for-the-rest-api", 403))
            self.rate_remaining -= 1
        if "owner" in ctx.params:
            full = f"{ctx.params['owner']}/{ctx.params['repo']}".lower()
            ctx.repo = self.repos.get(full)
            if ctx.repo is None or (ctx.token and not self._covers(ctx.token, full)):
                return Reply(404, error("Not Found", "", 404))
        if (
            ctx.token
            and chosen.perms
            and not any(
                level_allows(ctx.token.permissions.get(name), level) for name, level in chosen.perms
            )
        ):
            return Reply(403, error("Resource not accessible by integration", "", 403))
        return chosen.handler(self, ctx)

    def _covers(self, token: Token, full_name: str) -> bool:
        repo = self.repos[full_name]
        install = self.installations.get(token.installation_id)
        if install is None or self.installation_for(repo) is not install:
            return False
        return token.repositories is None or repo.full_name in token.repositories

    def _jwt_problem(self, credential: str) -> str | None:
        """GitHub's 401 message for a JWT it would refuse, or None."""
        try:
            claims = jwt.decode(
                credential,
                self.public_key_pem,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            return "A JSON web token could not be decoded"
        now = self.now().timestamp()
        if str(claims.get("iss")) != str(self.app_id):
            return "'Issuer' claim ('iss') must be an Integer"
        if not isinstance(claims.get("iat"), int | float) or claims["iat"] > now:
            return "'Issued at' claim ('iat') must be an Integer representing a time in the past"
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= now:
            return (
                "'Expiration time' claim ('exp') must be a numeric value representing the future "
                "time at which the assertion expires"
            )
        if exp > now + 600:
            return "'Expiration time' claim ('exp') is too far in the future"
        return None


@contextlib.contextmanager
def serve(fake: FakeGitHub, *, host: str = HOST) -> Iterator[str]:
    """Run `fake` under uvicorn in a thread on a free port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        fake, host=host, port=port, loop="asyncio", lifespan="off", log_config=None,
        log_level="warning", access_log=False, timeout_graceful_shutdown=2,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="fake-github", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake GitHub server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}{fake.api_prefix}"
    finally:
        fake.release_hangs()
        server.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)
        sock.close()
    if fake.errors:
        raise RuntimeError("FakeGitHub failed while answering") from fake.errors[0]
