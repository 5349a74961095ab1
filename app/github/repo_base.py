"""What every RepoClient verb shares: the repository, githubkit's client for the installation,
the call loop, and paging."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from githubkit import AppInstallationAuthStrategy, GitHub
from githubkit.rest import Paginator

from app.github.caller import Caller
from app.github.parse import items, read
from app.github.types import GitHubError

T = TypeVar("T")

PER_PAGE = 100


class RepoBase:
    def __init__(
        self, gh: GitHub[AppInstallationAuthStrategy], owner: str, name: str, call: Caller
    ) -> None:
        self._gh = gh  # a strong reference: githubkit's namespaces only hold a weak one
        self._rest = gh.rest
        self.owner = owner
        self.name = name
        self._call = call

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    async def _call_or_none(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """`call` under the retry policy; None when GitHub answers 404 (it is not there)."""
        try:
            return await self._call(call)
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise

    async def _collect(self, pages: Paginator[T], *, limit: int | None = None) -> list[T]:
        """Every item of every page, each page under the retry policy (a retried page is
        fetched again from where it failed: githubkit's paginator only moves on success)."""
        out: list[T] = []
        while limit is None or len(out) < limit:
            try:
                out.append(await self._call(pages.__anext__))
            except StopAsyncIteration:
                break
        return out

    async def _list(
        self,
        method: Any,
        what: str,
        *,
        key: str | None = None,
        limit: int | None = None,
        **params: Any,
    ) -> list[Any]:
        """Every item of a paginated list of this repository (`key`: the items' field in a
        wrapped answer, e.g. check_runs), at most `limit`."""
        pages = self._rest.paginate(
            method,
            map_func=lambda r: read(what, items(key), r),
            owner=self.owner,
            repo=self.name,
            per_page=PER_PAGE,
            **params,
        )
        return await self._collect(pages, limit=limit)
