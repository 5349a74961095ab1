"""`LinearClient`: Linear's GraphQL API over httpx, with the two verbs a review needs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from app import __version__
from app.linear.documents import (
    TEAMS_PAGE_SIZE,
    TEAMS_QUERY,
    issue_alias,
    issue_variable,
    issues_query,
)
from app.linear.errors import (
    LinearError,
    from_graphql,
    from_status,
    from_transport,
    is_not_found,
    message,
    timed_out,
)
from app.linear.types import LinearIssue, parse_issue
from app.logs import Redactor

log = logging.getLogger(__name__)

USER_AGENT = f"backend-review/{__version__}"
# A PR links a handful of issues; past this the query's complexity, not the PR, is the problem.
MAX_IDENTIFIERS = 50
# Workspaces have tens of teams; a cursor that never ends is Linear misbehaving, not a big org.
MAX_TEAM_PAGES = 20
# Requests one `issues()` call may make (see `issues`): the first, and follow-ups that each drop
# at least one unknown identifier.
MAX_ISSUE_REQUESTS = 3


@dataclass(frozen=True, slots=True)
class _Answer:
    """A GraphQL answer that did not fail as a whole at the HTTP level."""

    status: int
    data: Mapping[str, Any] | None
    errors: list[Mapping[str, Any]]

    def by_alias(self) -> dict[str, Mapping[str, Any]]:
        """The first error reported for each top-level field (alias)."""
        found: dict[str, Mapping[str, Any]] = {}
        for error in self.errors:
            path = error.get("path")
            if isinstance(path, list) and path and isinstance(path[0], str):
                found.setdefault(path[0], error)
        return found


class LinearClient:
    """Reads team keys and issues from Linear's GraphQL API.

    One attempt per request, no retries: a review must not wait on Linear. When a call fails
    the caller gets a `LinearError` (`transient` says whether a later review might fare better)
    and carries on without the ticket. Every request is bounded by `timeout` seconds in total.

    Authentication: a personal API key goes in the `Authorization` header as it is, with no
    `Bearer` scheme (that form is for OAuth access tokens). Linear's own SDK does exactly this
    (linear/linear, packages/sdk/src/client.ts, `parseClientOptions`: `Authorization: apiKey`,
    and `Bearer ${accessToken}` only for OAuth), and guides to Linear's API say the same
    (unified.to, "Linear API Key: How to Generate and Use It": `Authorization: lin_api_...`,
    no Bearer; a Bearer-prefixed key fails).

    The key is sent per request, never set on a passed-in `http_client`, and appears in no
    reason, exception or repr (`Redactor` scrubs it from anything Linear echoes back).
    """

    def __init__(
        self,
        api_key: str,
        url: str,
        *,
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        team_ttl_seconds: float = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not api_key:
            raise ValueError("LinearClient needs an API key (LINEAR_API_KEY is empty)")
        self._api_key = api_key
        self._url = url
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()
        self._timeout = timeout
        self._team_ttl = team_ttl_seconds
        self._clock = clock
        self._redactor = Redactor([api_key])
        self._teams: tuple[float, frozenset[str]] | None = None
        # Reviews running side by side share one fetch of the team list.
        self._teams_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"LinearClient(url={self._url!r})"

    async def __aenter__(self) -> LinearClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this object made it; a passed-in one is the caller's."""
        if self._owns_http:
            await self._http.aclose()

    async def team_keys(self) -> frozenset[str]:
        """Every team key of the workspace ("ENG", "OPS"), cached for `team_ttl_seconds`.

        A failure is not cached: the next call asks Linear again.
        """
        async with self._teams_lock:
            cached = self._teams
            if cached is not None and self._clock() - cached[0] < self._team_ttl:
                return cached[1]
            started = self._clock()
            keys = await self._fetch_team_keys()
            self._teams = (started, keys)
            return keys

    async def issues(self, identifiers: Sequence[str]) -> dict[str, LinearIssue | LinearError]:
        """The issues named by `identifiers` ("ENG-123"), fetched in one request.

        Each identifier maps to its issue, or to a `LinearError` for that issue alone
        ("not found" when Linear does not know it or the key cannot see it). A failure of the
        whole request (key refused, rate limit, timeout, 5xx) raises `LinearError`.

        `Query.issue` is non-null in Linear's schema, so GraphQL may answer an unknown
        identifier by nulling the whole `data`, taking the known issues with it. Then the
        identifiers that had no error of their own are asked again without the unknown ones:
        not a retry of a failed request, and each follow-up drops at least one identifier
        (at most MAX_ISSUE_REQUESTS requests in all).
        """
        wanted = list(dict.fromkeys(identifiers))
        if not wanted:
            return {}
        if len(wanted) > MAX_IDENTIFIERS:
            raise ValueError(f"at most {MAX_IDENTIFIERS} identifiers per call, got {len(wanted)}")
        results: dict[str, LinearIssue | LinearError] = {}
        pending = wanted
        for _ in range(MAX_ISSUE_REQUESTS):
            pending = await self._issues_round(pending, results)
            if not pending:
                break
        for identifier in pending:
            results[identifier] = LinearError(
                "Linear kept failing this request for other issues", transient=True
            )
        return {identifier: results[identifier] for identifier in wanted}

    async def _issues_round(
        self, pending: list[str], results: dict[str, LinearIssue | LinearError]
    ) -> list[str]:
        """Ask for `pending` once; record what is settled; return what must be asked again."""
        variables = {issue_variable(i): identifier for i, identifier in enumerate(pending)}
        answer = await self._post("issues", issues_query(len(pending)), variables)
        errors = answer.by_alias()
        aliases = [issue_alias(i) for i in range(len(pending))]
        if answer.data is None and not any(alias in errors for alias in aliases):
            raise self._failure(answer)
        again: list[str] = []
        for alias, identifier in zip(aliases, pending, strict=True):
            node = answer.data.get(alias) if answer.data is not None else None
            if isinstance(node, Mapping):
                issue = parse_issue(node)
                results[identifier] = issue or LinearError(
                    "Linear's answer for this issue was not shaped as asked", status=answer.status
                )
            elif alias in errors:
                results[identifier] = self._issue_error(errors[alias], answer.status)
            elif answer.data is None:
                again.append(identifier)
            else:
                results[identifier] = LinearError(
                    "Linear returned nothing for this issue", status=answer.status
                )
        return again

    def _issue_error(self, error: Mapping[str, Any], status: int) -> LinearError:
        if is_not_found(error):
            return LinearError("not found", status=status)
        return LinearError(message(error, self._redactor), status=status)

    async def _fetch_team_keys(self) -> frozenset[str]:
        keys: set[str] = set()
        after: str | None = None
        for _ in range(MAX_TEAM_PAGES):
            answer = await self._post(
                "teams", TEAMS_QUERY, {"first": TEAMS_PAGE_SIZE, "after": after}
            )
            teams = answer.data.get("teams") if answer.data is not None else None
            if not isinstance(teams, Mapping):
                raise self._failure(answer)
            nodes = teams.get("nodes")
            page = teams.get("pageInfo")
            if not isinstance(nodes, list) or not isinstance(page, Mapping):
                raise self._malformed(answer.status, "teams")
            keys.update(
                n["key"] for n in nodes if isinstance(n, Mapping) and isinstance(n.get("key"), str)
            )
            if page.get("hasNextPage") is not True:
                return frozenset(keys)
            cursor = page.get("endCursor")
            if not isinstance(cursor, str) or cursor == after:
                raise LinearError(
                    "Linear's team list said there was more but gave no new cursor",
                    status=answer.status,
                )
            after = cursor
        raise LinearError(f"Linear's team list ran past {MAX_TEAM_PAGES} pages")

    async def _post(self, operation: str, query: str, variables: Mapping[str, Any]) -> _Answer:
        headers = {
            "Authorization": self._api_key,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        try:
            # httpx's timeout bounds each phase (connect, write, each read); this bounds them all.
            async with asyncio.timeout(self._timeout):
                response = await self._http.post(
                    self._url,
                    json={"query": query, "variables": dict(variables)},
                    headers=headers,
                    timeout=self._timeout,
                )
        except TimeoutError:
            raise timed_out(self._timeout) from None
        except httpx.TransportError as exc:
            raise from_transport(exc, self._timeout) from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise LinearError(f"Linear request could not be made ({type(exc).__name__})") from None
        log.debug("linear %s: HTTP %d", operation, response.status_code)
        try:
            body: object = response.json()
        except ValueError:
            body = None
        errors: list[Mapping[str, Any]] = []
        if isinstance(body, dict) and isinstance(body.get("errors"), list):
            errors = [e for e in body["errors"] if isinstance(e, Mapping)]
        failure = from_status(response, errors)
        if failure is not None:
            raise failure
        if not isinstance(body, dict):
            raise self._malformed(response.status_code, "not a JSON object")
        data = body.get("data")
        return _Answer(response.status_code, data if isinstance(data, Mapping) else None, errors)

    def _failure(self, answer: _Answer) -> LinearError:
        """The whole request failed: Linear's first error, or a malformed answer."""
        if answer.errors:
            return from_graphql(answer.errors, answer.status, self._redactor)
        return self._malformed(answer.status, "no data")

    @staticmethod
    def _malformed(status: int, what: str) -> LinearError:
        return LinearError(
            f"Linear's answer was not GraphQL as expected ({status}, {what})", status=status
        )
