"""Reading back what the bot said on a PR costs a bounded number of requests, however many
comments other people add."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.github.client import GitHubApp
from app.github.repo import RepoClient
from app.github.repo_comments import MAX_SCAN_PAGES
from app.review.markers import SUMMARY_MARKER, finding_ids, finding_marker, is_summary
from app.review.plan import InlineComment
from app.runtime import github_credentials
from tests.fakes.github_objects import Review, ReviewComment
from tests.fakes.github_server import FakeGitHub
from tests.fakes.github_state import Pull
from tests.jobs import ENDPOINT, REFUNDS, settings_for

SUMMARY = f"{SUMMARY_MARKER}\n\n## backend-review\n\nNo blocking findings"


async def _no_sleep(_: float) -> None:
    return None


class Setup:
    def __init__(self, github: FakeGitHub, repo: RepoClient, pull: Pull, bot: str) -> None:
        self.github, self.repo, self.pull, self.bot = github, repo, pull, bot

    def calls(self) -> list[str]:
        return [c.path for c in self.github.calls if c.auth == "token" and c.method == "GET"]

    def flood_issue_comments(self, n: int, body: str = "me too") -> None:
        for _ in range(n):
            self.github.add_issue_comment(
                self.github.repo(self.pull.repo), self.pull.number, "mallory", body
            )

    def flood_reviews(self, reviews: int, comments_each: int) -> None:
        state, pull = self.github, self.pull
        for _ in range(reviews):
            review = Review(
                state.next_id(80000000), pull.number, pull.repo.full_name,
                state.user("mallory"), "", "COMMENTED", pull.head_sha, state.now(),
            )  # fmt: skip
            for _ in range(comments_each):
                moment = state.now()
                review.comments.append(
                    ReviewComment(
                        id=state.next_id(2100000000),
                        review_id=review.id,
                        pull_number=pull.number,
                        repo=pull.repo.full_name,
                        user=state.user("mallory"),
                        body=f"nit\n\n{finding_marker('br-aaaaaaaaaaaa')}",
                        path=ENDPOINT,
                        commit_id=pull.head_sha,
                        line=4,
                        side="RIGHT",
                        start_line=None,
                        start_side=None,
                        subject_type="line",
                        diff_hunk="@@",
                        in_reply_to_id=None,
                        created_at=moment,
                        updated_at=moment,
                    )
                )
            state.reviews.append(review)


@pytest.fixture
async def s(tmp_path: Path) -> AsyncIterator[Setup]:
    github = FakeGitHub()
    repo = github.add_repo("acme/payments")
    pull = github.add_pull(repo, diff=REFUNDS)
    app = GitHubApp(
        github_credentials(settings_for(github, tmp_path)),
        async_transport=github.transport(),
        sleep=_no_sleep,
    )
    try:
        client = app.repo(repo.installation_id, repo.full_name)
        yield Setup(github, client, pull, await app.bot_login())
    finally:
        await app.aclose()


async def _review_by_the_bot(s: Setup) -> int:
    comment = InlineComment(
        path=ENDPOINT, line=4, side="RIGHT", body=f"Key\n\n{finding_marker('br-0123456789ab')}",
        finding_id="br-0123456789ab",
    )  # fmt: skip
    return await s.repo.create_review(
        s.pull.number, commit_id=s.pull.head_sha, body="review", event="COMMENT", comments=[comment]
    )


async def test_the_bots_summary_and_review_comments_are_found(s: Setup) -> None:
    s.flood_issue_comments(3)
    summary_id = await s.repo.create_issue_comment(s.pull.number, SUMMARY)
    await _review_by_the_bot(s)
    s.flood_reviews(2, 2)

    ours = await s.repo.our_comments(s.pull.number, bot_login=s.bot, is_summary=is_summary)

    assert ours.summary is not None
    assert ours.summary.id == summary_id
    assert [finding_ids(c.body) for c in ours.review_comments] == [{"br-0123456789ab"}]
    assert not ours.truncated


async def test_a_known_summary_id_costs_one_request_and_floods_cost_nothing(s: Setup) -> None:
    summary_id = await s.repo.create_issue_comment(s.pull.number, SUMMARY)
    await _review_by_the_bot(s)
    s.flood_issue_comments(2_500)
    s.flood_reviews(1, 2_000)  # one review carrying two thousand comments
    before = len(s.calls())

    ours = await s.repo.our_comments(
        s.pull.number, bot_login=s.bot, is_summary=is_summary, summary_id=summary_id
    )

    made = s.calls()[before:]
    assert ours.summary is not None
    assert ours.summary.id == summary_id
    assert len(ours.review_comments) == 1
    # The summary by id, one page of reviews, one page of our review's comments.
    assert len(made) == 3 == ours.requests
    assert not any(p.endswith(f"/issues/{s.pull.number}/comments") for p in made)


async def test_without_an_id_paging_stops_at_the_summary(s: Setup) -> None:
    s.flood_issue_comments(150)
    summary_id = await s.repo.create_issue_comment(s.pull.number, SUMMARY)
    s.flood_issue_comments(2_000)
    before = len(s.calls())

    ours = await s.repo.our_comments(s.pull.number, bot_login=s.bot, is_summary=is_summary)

    pages = [p for p in s.calls()[before:] if p.endswith(f"/issues/{s.pull.number}/comments")]
    assert ours.summary is not None
    assert ours.summary.id == summary_id
    assert len(pages) == 2  # 150 comments before ours: the second page has it


async def test_a_forged_summary_and_a_stale_id_are_not_taken(s: Setup) -> None:
    forged = s.github.add_issue_comment(
        s.github.repo(s.pull.repo), s.pull.number, "mallory", SUMMARY
    )
    ours = await s.repo.our_comments(
        s.pull.number, bot_login=s.bot, is_summary=is_summary, summary_id=forged.id
    )
    assert ours.summary is None
    gone = await s.repo.our_comments(
        s.pull.number, bot_login=s.bot, is_summary=is_summary, summary_id=999
    )
    assert gone.summary is None


async def test_a_flood_without_our_summary_is_read_up_to_the_bound(s: Setup) -> None:
    s.flood_issue_comments(MAX_SCAN_PAGES * 100 + 50)
    before = len(s.calls())

    ours = await s.repo.our_comments(s.pull.number, bot_login=s.bot, is_summary=is_summary)

    pages = [p for p in s.calls()[before:] if p.endswith(f"/issues/{s.pull.number}/comments")]
    assert (ours.summary, ours.truncated) == (None, True)
    assert len(pages) == MAX_SCAN_PAGES


async def test_without_a_summary_one_page_is_read_and_the_login_is_never_asked(
    s: Setup,
) -> None:
    s.flood_issue_comments(3)
    s.flood_reviews(2, 2)  # someone else's reviews: ours come after our summary, never before
    asked: list[str] = []

    async def login() -> str:
        asked.append(s.bot)
        return s.bot

    ours = await s.repo.our_comments(s.pull.number, bot_login=login, is_summary=is_summary)

    assert (ours.comments, ours.requests, ours.truncated) == ([], 1, False)
    assert asked == []


async def test_a_summary_marker_by_someone_else_makes_the_login_asked_once(s: Setup) -> None:
    s.flood_issue_comments(2)
    s.flood_issue_comments(1, body=SUMMARY)  # a forged marker, before ours
    await s.repo.create_issue_comment(s.pull.number, SUMMARY)
    await _review_by_the_bot(s)
    asked: list[str] = []

    async def login() -> str:
        asked.append(s.bot)
        return s.bot

    ours = await s.repo.our_comments(s.pull.number, bot_login=login, is_summary=is_summary)

    assert ours.summary is not None
    assert ours.summary.author == s.bot
    assert [finding_ids(c.body) for c in ours.review_comments] == [{"br-0123456789ab"}]
    assert asked == [s.bot]
