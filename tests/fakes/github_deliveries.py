"""The App's webhook deliveries in the fake GitHub: the list, one attempt, and a redelivery.

    hooks = hook_deliveries(fake)
    first = hooks.add("pull_request", "opened", payload=body, status_code=502, ago=hours(2))
    hooks.add("pull_request", "opened", guid=first.guid, redelivery=True)  # a later attempt
    hooks.on_redeliver = lambda attempt: 202          # what a redelivery's new attempt got
    hooks.redelivered                                 # the attempts the App asked for, in order

As GitHub documents it (REST "Webhooks" for Apps; JWT auth): `GET /app/hook/deliveries` lists
attempts newest first, `per_page` (default 30, at most 100) at a time, paged with an opaque
`cursor` named in the `Link` header's `next` URL, `status=success|failure` filtering; only the
last three days are kept. `GET /app/hook/deliveries/{id}` adds the request and the response.
`POST /app/hook/deliveries/{id}/attempts` answers 202 `{}` and makes a new attempt of the same
event (same `guid`, `redelivery: true`). The fake makes it at once; its outcome is
`on_redeliver(attempt)` (a test can POST `attempt.payload` to a server there and return the
status it got), or 200 without one. Every attempt of one event shares its `guid`, which
GitHub sends as `X-GitHub-Delivery`.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.fakes import github_json as js
from tests.fakes.github_http import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    Ctx,
    Fail,
    Reply,
    Route,
    not_found,
    route,
)
from tests.fakes.github_objects import iso
from tests.fakes.github_state import GitHubState

ROUTES: list[Route] = []
RETENTION = timedelta(days=3)
_DOC = "/apps/webhooks#list-deliveries-for-an-app-webhook"


@dataclass
class Attempt:
    id: int
    guid: str
    delivered_at: datetime
    event: str
    action: str | None
    status_code: int
    status: str
    redelivery: bool = False
    duration: float = 0.31
    installation_id: int | None = None
    repository_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    response_body: str = ""

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id, "guid": self.guid, "delivered_at": iso(self.delivered_at),
            "redelivery": self.redelivery, "duration": self.duration, "status": self.status,
            "status_code": self.status_code, "event": self.event, "action": self.action,
            "installation_id": self.installation_id, "repository_id": self.repository_id,
            "throttled_at": None,
        }  # fmt: skip


def status_text(status_code: int) -> str:
    """GitHub's `status` for an answer: "OK" for a 2xx, else what went wrong."""
    if 200 <= status_code < 300:
        return "OK"
    if status_code == 0:
        return "timed out"
    return f"Invalid HTTP Response: {status_code}"


class HookDeliveries:
    """The deliveries GitHub made to the App's webhook (one per fake)."""

    def __init__(self, state: GitHubState) -> None:
        self._state = weakref.ref(state)
        self.attempts: list[Attempt] = []
        self.redelivered: list[Attempt] = []  # the attempts a redelivery was asked for
        self.on_redeliver: Callable[[Attempt], int] | None = None

    @property
    def state(self) -> GitHubState:
        state = self._state()
        assert state is not None
        return state

    def add(
        self,
        event: str,
        action: str | None = None,
        *,
        payload: dict[str, Any] | None = None,
        guid: str | None = None,
        status_code: int = 200,
        status: str | None = None,
        ago: timedelta = timedelta(),
        redelivery: bool = False,
        installation_id: int | None = None,
        repository_id: int | None = None,
    ) -> Attempt:
        """One attempt, delivered `ago` before the fake's now (a new event unless `guid`)."""
        body = dict(payload or {})
        if action is not None:
            body.setdefault("action", action)
        attempt = Attempt(
            id=self.state.next_id(90_000_000_000),
            guid=guid or str(uuid.uuid4()),
            delivered_at=self.state.now() - ago,
            event=event,
            action=action,
            status_code=status_code,
            status=status or status_text(status_code),
            redelivery=redelivery,
            installation_id=installation_id,
            repository_id=repository_id,
            payload=body,
        )
        with self.state.lock:
            self.attempts.append(attempt)
        return attempt

    def of(self, guid: str) -> list[Attempt]:
        return [a for a in self.attempts if a.guid == guid]

    def listed(self) -> list[Attempt]:
        """What GitHub still keeps, newest first."""
        cutoff = self.state.now() - RETENTION
        kept = [a for a in self.attempts if a.delivered_at >= cutoff]
        return sorted(kept, key=lambda a: (a.delivered_at, a.id), reverse=True)

    def find(self, delivery_id: str) -> Attempt:
        for attempt in self.listed():
            if str(attempt.id) == delivery_id:
                return attempt
        raise not_found("/apps/webhooks#get-a-delivery-for-an-app-webhook")

    def redeliver(self, original: Attempt) -> Attempt:
        self.redelivered.append(original)
        attempt = Attempt(
            id=self.state.next_id(90_000_000_000),
            guid=original.guid,
            delivered_at=self.state.now(),
            event=original.event,
            action=original.action,
            status_code=0,
            status="",
            redelivery=True,
            installation_id=original.installation_id,
            repository_id=original.repository_id,
            payload=original.payload,
        )
        attempt.status_code = self.on_redeliver(attempt) if self.on_redeliver else 200
        attempt.status = status_text(attempt.status_code)
        self.attempts.append(attempt)
        return attempt


_LOGS: weakref.WeakKeyDictionary[GitHubState, HookDeliveries] = weakref.WeakKeyDictionary()


def hook_deliveries(state: GitHubState) -> HookDeliveries:
    """The fake's webhook deliveries (made on first use)."""
    with state.lock:
        found = _LOGS.get(state)
        if found is None:
            found = _LOGS[state] = HookDeliveries(state)
        return found


def _bad_request(message: str) -> Fail:
    return Fail(Reply(400, js.error(message, _DOC, 400)))


@route(ROUTES, "GET", "/app/hook/deliveries", "jwt")
def list_deliveries(state: GitHubState, ctx: Ctx) -> Reply:
    items = hook_deliveries(state).listed()
    wanted = ctx.query.get("status")
    if wanted not in (None, "success", "failure"):
        raise _bad_request("status must be one of: success, failure")
    if wanted is not None:
        items = [a for a in items if (a.status == "OK") == (wanted == "success")]
    try:
        per_page = min(max(int(ctx.query.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
    except ValueError:
        raise _bad_request("per_page must be a number") from None
    start = 0
    cursor = ctx.query.get("cursor")
    if cursor is not None:
        ids = [f"v1_{a.id}" for a in items]
        if cursor not in ids:
            raise _bad_request("Invalid cursor")
        start = ids.index(cursor) + 1
    page = items[start : start + per_page]
    headers = {}
    if start + per_page < len(items):
        query = dict(ctx.query) | {"per_page": str(per_page), "cursor": f"v1_{page[-1].id}"}
        headers["link"] = f'<{ctx.api}{ctx.raw_path}?{urlencode(query)}>; rel="next"'
    return Reply(200, [a.json() for a in page], headers)


@route(ROUTES, "GET", "/app/hook/deliveries/{delivery_id}", "jwt")
def get_delivery(state: GitHubState, ctx: Ctx) -> Reply:
    attempt = hook_deliveries(state).find(ctx.params["delivery_id"])
    body = attempt.json() | {
        "url": "https://backend-review.example.com/webhooks/github",
        "request": {
            "headers": {
                "X-GitHub-Delivery": attempt.guid,
                "X-GitHub-Event": attempt.event,
                "Content-Type": "application/json",
            },
            "payload": attempt.payload,
        },
        "response": {"headers": {}, "payload": attempt.response_body},
    }
    return Reply(200, body)


@route(ROUTES, "POST", "/app/hook/deliveries/{delivery_id}/attempts", "jwt")
def redeliver(state: GitHubState, ctx: Ctx) -> Reply:
    hooks = hook_deliveries(state)
    hooks.redeliver(hooks.find(ctx.params["delivery_id"]))
    return Reply(202, {})
