"""The App's own endpoints (JWT, not an installation token) that operations need: the webhook
deliveries GitHub made to us, asking for one again, and the App's registered permissions.

    hooks = AppHooks(github)                               # github: an open GitHubApp
    async for attempt in hooks.deliveries(since=cutoff):  # newest first, every page
        ...
    await hooks.redeliver(attempt.id)                      # GitHub answers 202, delivers later
    app = await hooks.app()                                # permissions and events

GitHub keeps about three days of deliveries (GITHUB-FACTS) and does not retry a failed one by
itself. Each attempt has its own `id`; every attempt of one event shares the `guid`, which is
the `X-GitHub-Delivery` header we store. The list is paged with an opaque `cursor` named in the
`Link` header's `next` URL, not with page numbers.

Answers are read from the JSON (app.github.parse), not githubkit's models; failures leave as
GitHubError through the App's call loop (reads retried, a redelivery POST never repeated).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from githubkit import AppAuthStrategy, GitHub

from app.github.caller import Caller
from app.github.client import GitHubApp
from app.github.parse import read, read_data

MAX_PER_PAGE = 100  # GitHub's cap for this list
MAX_PAGES = 100  # 10,000 attempts: more than a busy App gets in the window we look at


@dataclass(frozen=True, slots=True)
class HookDelivery:
    """One delivery attempt, as `GET /app/hook/deliveries` lists it."""

    id: int  # this attempt
    guid: str  # the event: shared by its redeliveries; our deliveries.id
    delivered_at: datetime
    redelivery: bool
    status: str  # "OK", "Invalid HTTP Response: 503", "timed out", ...
    status_code: int  # 0 when no HTTP answer came
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status_code < 300 and self.status == "OK"

    @property
    def name(self) -> str:
        """`event.action`, or the event alone."""
        return f"{self.event}.{self.action}" if self.action else self.event


@dataclass(frozen=True, slots=True)
class AppInfo:
    slug: str
    permissions: Mapping[str, str]
    events: frozenset[str]
    html_url: str = ""  # the App's page; its installations/new is where it is installed


class AppHooks:
    """The App-level calls of one open GitHubApp (it owns the connections and the JWT)."""

    def __init__(self, github: GitHubApp) -> None:
        # The App's JWT client and call loop: these calls are the App's own, like bot_login.
        self._gh: GitHub[AppAuthStrategy]
        self._call: Caller
        self._gh, self._call = github.app_client()

    async def deliveries(
        self, *, since: datetime, per_page: int = MAX_PER_PAGE, max_pages: int = MAX_PAGES
    ) -> AsyncIterator[HookDelivery]:
        """Attempts delivered at or after `since`, newest first; stops paging at the first
        older one (the list is in delivery order) or after `max_pages`."""
        per_page = min(max(per_page, 1), MAX_PER_PAGE)
        cursor: str | None = None
        for _ in range(max_pages):
            page, cursor = await self._page(per_page, cursor)
            for attempt in page:
                if attempt.delivered_at < since:
                    return
                yield attempt
            if cursor is None:
                return

    async def _page(
        self, per_page: int, cursor: str | None
    ) -> tuple[list[HookDelivery], str | None]:
        apps = self._gh.rest.apps

        async def call() -> Any:
            if cursor is None:
                return await apps.async_list_webhook_deliveries(per_page=per_page)
            return await apps.async_list_webhook_deliveries(per_page=per_page, cursor=cursor)

        response = await self._call(call)
        items = read(
            "the App's webhook deliveries", lambda data: [_delivery(d) for d in data], response
        )
        return items, _next_cursor(response.raw_response.links)

    async def delivery(self, delivery_id: int) -> HookDelivery:
        response = await self._call(
            lambda: self._gh.rest.apps.async_get_webhook_delivery(delivery_id)
        )
        return read(f"webhook delivery {delivery_id}", _delivery, response)

    async def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to deliver this attempt's event again (202: it does so shortly after).

        Never repeated on a 5xx or timeout: the request may have been taken, and a second
        would deliver the event twice (our dedupe would drop it, but GitHub would log both)."""
        await self._call(
            lambda: self._gh.rest.apps.async_redeliver_webhook_delivery(delivery_id),
            retry=False,
        )

    async def app(self) -> AppInfo:
        response = await self._call(self._gh.rest.apps.async_get_authenticated)
        return read("the App", _app_info, response)


def _delivery(data: Any) -> HookDelivery:
    return HookDelivery(
        id=int(data["id"]),
        guid=str(data["guid"]),
        delivered_at=_timestamp(data["delivered_at"]),
        redelivery=bool(data["redelivery"]),
        status=str(data["status"]),
        status_code=int(data["status_code"]),
        event=str(data["event"]),
        action=None if data.get("action") is None else str(data["action"]),
        installation_id=_optional_int(data.get("installation_id")),
        repository_id=_optional_int(data.get("repository_id")),
    )


def _app_info(data: Any) -> AppInfo:
    permissions = data.get("permissions") or {}
    return AppInfo(
        slug=str(data["slug"]),
        permissions={str(k): str(v) for k, v in permissions.items()},
        events=frozenset(str(e) for e in data.get("events") or ()),
        html_url=str(data.get("html_url") or ""),
    )


def _timestamp(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("delivered_at without a zone")
    return moment


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _next_cursor(links: Mapping[str, Mapping[str, str]]) -> str | None:
    """The `cursor` of the `next` link; None on the last page."""
    url = links.get("next", {}).get("url")
    if not url:
        return None

    cursor: str = read_data(
        "the next page of webhook deliveries",
        lambda link: parse_qs(urlsplit(link).query)["cursor"][0],
        url,
    )
    return cursor
