"""Reading what the bot already said on a pull request, in a bounded number of requests.

A review needs two things from the PR's comments: its own summary comment (to edit it) and the
fingerprint markers of its own review comments (not to post a finding twice). Listing every
page of every comment costs one request per hundred comments, and anyone who can comment can
add thousands. So:

- the summary is fetched by id when the caller knows it (one request), and otherwise the issue
  comments are paged only until the first of ours that `is_summary` accepts, at most
  MAX_SCAN_PAGES pages (they are listed oldest first, and the summary is posted by the first
  review, so it is near the start);
- review comments are read per review: the PR's reviews are listed (at most MAX_SCAN_PAGES
  pages; a flood of comments in one review is one entry) and only the bot's own reviews are
  opened. A standalone file-level comment is a review of its own, so it is found the same way.

What is past the bound is not read; the result says so (`truncated`) and the caller decides
what to say. GitHub's issue-comments list has no sort or author filter, and `since` filters by
update time, which would miss an old summary, so neither helps here (GITHUB-FACTS).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.github import parse
from app.github.parse import items, read, read_data
from app.github.repo_base import PER_PAGE, RepoBase
from app.github.types import Comment

MAX_SCAN_PAGES = 10


@dataclass(frozen=True, slots=True)
class OurComments:
    summary: Comment | None
    review_comments: list[Comment]  # the bot's, from its own reviews
    requests: int  # GitHub requests made (pages and single reads), for logs and tests
    truncated: bool  # a list was longer than MAX_SCAN_PAGES pages: the rest was not read

    @property
    def comments(self) -> list[Comment]:
        return ([self.summary] if self.summary else []) + self.review_comments


class RepoComments(RepoBase):
    async def our_comments(
        self,
        number: int,
        *,
        bot_login: str | Callable[[], Awaitable[str]],
        is_summary: Callable[[str], bool],
        summary_id: int | None = None,
    ) -> OurComments:
        """The bot's summary comment and review comments on pull request `number`.

        `bot_login` may be a coroutine function: it is then asked only when a comment carries
        our summary marker. Publishing posts the summary before any review, so a pull request
        with no summary has no review of ours either, and its reviews are not listed.
        """
        login = _Login(bot_login)
        counter = _Counter()
        summary = None
        if summary_id is not None:
            summary = await self._issue_comment(summary_id, counter)
            if summary is not None and not (
                is_summary(summary.body) and summary.author == await login()
            ):
                summary = None  # deleted and the id reused, or edited by someone: look again
        truncated = False
        if summary is None:
            summary, truncated = await self._find_summary(number, login, is_summary, counter)
        if summary is None and summary_id is None:
            return OurComments(None, [], counter.requests, truncated)
        bot = await login()
        reviews, more = await self._scan(
            self._rest.pulls.async_list_reviews,
            f"the reviews of #{number}",
            counter,
            stop=None,
            pull_number=number,
        )
        ours = [r for r in reviews if _author(r) == bot]
        review_comments: list[Comment] = []
        for review in ours:
            found, cut = await self._scan(
                self._rest.pulls.async_list_comments_for_review,
                f"the comments of review {review.get('id')}",
                counter,
                stop=None,
                pull_number=number,
                review_id=int(review["id"]),
            )
            review_comments += read_data(
                f"the comments of #{number}",
                lambda d: [parse.comment(c, "review") for c in d],
                found,
            )
            truncated = truncated or cut
        return OurComments(summary, review_comments, counter.requests, truncated or more)

    async def review_comment(self, comment_id: int) -> Comment | None:
        """One review comment by its id (a thread's root, say); None when it is gone."""
        response = await self._call_or_none(
            lambda: self._rest.pulls.async_get_review_comment(self.owner, self.name, comment_id)
        )
        if response is None:
            return None
        return read(f"review comment {comment_id}", lambda d: parse.comment(d, "review"), response)

    async def _issue_comment(self, comment_id: int, counter: _Counter) -> Comment | None:
        counter.requests += 1
        response = await self._call_or_none(
            lambda: self._rest.issues.async_get_comment(self.owner, self.name, comment_id)
        )
        if response is None:
            return None
        return read(f"comment {comment_id}", lambda d: parse.comment(d, "issue"), response)

    async def _find_summary(
        self,
        number: int,
        login: _Login,
        is_summary: Callable[[str], bool],
        counter: _Counter,
    ) -> tuple[Comment | None, bool]:
        def marked(data: Any) -> bool:
            return is_summary(str(data.get("body") or ""))

        # First up to the first marker by anyone (the App's name is not needed when there is
        # none); only when that one is somebody else's, again up to the first of ours.
        found, truncated = await self._scan(
            self._rest.issues.async_list_comments,
            f"the comments of #{number}",
            counter,
            stop=marked,
            issue_number=number,
        )
        if not (found and marked(found[-1])):
            return None, truncated
        bot_login = await login()
        if _author(found[-1]) != bot_login:

            def ours(data: Any) -> bool:
                return _author(data) == bot_login and marked(data)

            found, truncated = await self._scan(
                self._rest.issues.async_list_comments,
                f"the comments of #{number}",
                counter,
                stop=ours,
                issue_number=number,
            )
        if found and marked(found[-1]) and _author(found[-1]) == bot_login:
            return read_data(
                "the summary comment", lambda d: parse.comment(d, "issue"), found[-1]
            ), False
        return None, truncated

    async def _scan(
        self,
        method: Any,
        what: str,
        counter: _Counter,
        *,
        stop: Callable[[Any], bool] | None,
        **params: Any,
    ) -> tuple[list[Any], bool]:
        """Items of a paginated list, up to the first that `stop` accepts (included), at most
        MAX_SCAN_PAGES pages; True when there was more to read."""
        pages = self._rest.paginate(
            method,
            map_func=lambda r: _counted(counter, read(what, items(), r)),
            owner=self.owner,
            repo=self.name,
            per_page=PER_PAGE,
            **params,
        )
        out: list[Any] = []
        while True:
            if len(out) >= MAX_SCAN_PAGES * PER_PAGE:
                return out, True
            try:
                item = await self._call(pages.__anext__)
            except StopAsyncIteration:
                return out, False
            out.append(item)
            if stop is not None and stop(item):
                return out, False


class _Counter:
    requests = 0


class _Login:
    """The bot's login, asked for at most once and only when needed."""

    def __init__(self, source: str | Callable[[], Awaitable[str]]) -> None:
        self._source = source
        self._value: str | None = source if isinstance(source, str) else None

    async def __call__(self) -> str:
        if self._value is None:
            assert not isinstance(self._source, str)
            self._value = await self._source()
        return self._value


def _counted(counter: _Counter, page: list[Any]) -> list[Any]:
    counter.requests += 1
    return page


def _author(data: Any) -> str:
    user = data.get("user") if isinstance(data, dict) else None
    return str(user.get("login")) if isinstance(user, dict) else "ghost"
