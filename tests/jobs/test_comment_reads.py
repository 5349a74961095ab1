"""A re-review reads back only the bot's own comments: a PR flooded with other people's
comments costs it no more requests, and nothing is posted twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.review.markers import is_summary
from tests.fakes.anthropic_api import tool_answer
from tests.jobs import World, world
from tests.jobs.model_calls import answer


@pytest.fixture
async def w(engine: AsyncEngine, tmp_path: Path) -> Any:
    async with world(engine, tmp_path) as built:
        built.llm.respond_with(lambda _: tool_answer(answer()))
        yield built


def _comment_reads(w: World) -> list[str]:
    return [c for c in w.calls() if c.startswith("GET") and "comments" in c]


async def test_a_flooded_pr_is_re_reviewed_in_a_few_reads_without_duplicates(w: World) -> None:
    pr = w.pull()
    await w.run(w.review_job(pr))
    posted = len(w.github.review_comments_on(w.repo, pr.number))
    for i in range(1_500):
        w.github.add_issue_comment(w.repo, pr.number, "mallory", f"spam {i}")
    before = len(_comment_reads(w))

    await w.run(w.review_job(pr, trigger="check_run.rerequested"))

    reads = _comment_reads(w)[before:]
    # The summary by its stored id and the comments of our one review; no issue-comment pages.
    assert len(reads) == 2
    assert not any(r.endswith(f"/issues/{pr.number}/comments") for r in reads)
    assert len(w.github.review_comments_on(w.repo, pr.number)) == posted
    summaries = [c for c in w.github.issue_comments_on(w.repo, pr.number) if is_summary(c.body)]
    assert len(summaries) == 1
    assert summaries[0].edits  # edited in place
