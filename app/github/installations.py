"""Where the App is installed and which repositories each installation lets it see, for the
home page. Bounded: one page of installations, one page of repositories for each of the first
few, with the totals GitHub gives.

    found = await installations(github, limit=10)          # github: an open GitHubApp
    repos = await installation_repos(github, found.items[0].id, limit=20)

The list of installations is the App's own (its JWT); an installation's repositories need that
installation's token (`GET /installation/repositories`), which githubkit makes and caches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.github.client import GitHubApp
from app.github.parse import read

MAX_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class Installation:
    id: int
    account: str
    account_type: str  # "User" or "Organization"
    repository_selection: str  # "all" or "selected"
    suspended: bool


@dataclass(frozen=True, slots=True)
class Installations:
    items: tuple[Installation, ...]
    more: bool  # a full page came back: there may be others


@dataclass(frozen=True, slots=True)
class InstalledRepos:
    total: int
    names: tuple[str, ...]  # the first ones, "owner/name"


async def installations(github: GitHubApp, *, limit: int) -> Installations:
    gh, call = github.app_client()
    per_page = min(max(limit, 1), MAX_PER_PAGE)
    response = await call(lambda: gh.rest.apps.async_list_installations(per_page=per_page))
    items = read(
        "the App's installations", lambda data: tuple(_installation(d) for d in data), response
    )
    return Installations(items, more=len(items) >= per_page)


async def installation_repos(
    github: GitHubApp, installation_id: int, *, limit: int
) -> InstalledRepos:
    gh, call = github.app_client()
    scoped = gh.with_auth(gh.auth.as_installation(installation_id))
    per_page = min(max(limit, 1), MAX_PER_PAGE)
    response = await call(
        lambda: scoped.rest.apps.async_list_repos_accessible_to_installation(per_page=per_page)
    )
    return read(f"installation {installation_id}'s repositories", _repos, response)


def _installation(data: Any) -> Installation:
    account = data["account"] or {}
    return Installation(
        id=int(data["id"]),
        account=str(account.get("login") or account.get("slug") or "?"),
        account_type=str(data.get("target_type") or account.get("type") or ""),
        repository_selection=str(data.get("repository_selection") or ""),
        suspended=data.get("suspended_at") is not None,
    )


def _repos(data: Any) -> InstalledRepos:
    names = tuple(str(r["full_name"]) for r in data["repositories"])
    return InstalledRepos(total=int(data["total_count"]), names=names)
