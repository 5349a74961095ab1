"""Publishing a review plan on the pull request: one review, the summary edited in place, the
check run completed (with its "Re-review fully" button). Every step is safe to repeat: a retried
job finds its findings already on the PR (markers) and the summary comment by its marker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from app.github.repo import RepoClient
from app.github.types import FULL_REVIEW, ReviewRejected
from app.review.markers import finding_ids
from app.review.plan import ReviewPlan

log = logging.getLogger(__name__)

# Rebuild the plan with one more notice at the top of the summary.
Replan = Callable[[str], ReviewPlan]


@dataclass(frozen=True, slots=True)
class Published:
    plan: ReviewPlan  # what was published (rebuilt when GitHub refused the inline comments)
    review_id: int | None
    summary_comment_id: int


async def publish(
    repo: RepoClient,
    plan: ReviewPlan,
    *,
    number: int,
    head_sha: str,
    check_run_id: int,
    summary_comment_id: int | None,
    replan: Replan,
) -> Published:
    """Summary, then review, then check. The summary goes first because it records which
    file-level findings ride in the review's body: if the review then failed, the retry would
    take them for posted and not post them twice (they stay listed in the summary); the other
    order would post them twice."""
    summary_comment_id = await _upsert_summary(repo, number, plan, summary_comment_id)
    review_id: int | None = None
    if plan.comments or finding_ids(plan.review_body):
        try:
            review_id = await repo.create_review(
                number,
                commit_id=head_sha,
                body=plan.review_body,
                event=plan.event,
                comments=plan.comments,
            )
        except ReviewRejected as exc:
            # Anchoring keeps every comment on the diff, so this should not happen; if it does,
            # the findings are not lost: the review goes out without inline comments and the
            # summary lists them all and says why.
            refused = len(plan.comments)
            log.error("GitHub refused the review on #%d (%s); posting it without", number, exc)
            plan = replan(
                f"GitHub refused the {refused} inline comment(s) of this review "
                f"({exc.reason}); they are listed here instead"
            )
            review_id = await repo.create_review(
                number, commit_id=head_sha, body=plan.review_body, event=plan.event, comments=[]
            )
            await repo.update_issue_comment(summary_comment_id, plan.summary_body)
    await repo.complete_check_run(
        check_run_id,
        conclusion=plan.conclusion,
        title=plan.check_title,
        summary=plan.check_summary,
        annotations=plan.annotations,
        actions=(FULL_REVIEW,),
    )
    return Published(plan, review_id, summary_comment_id)


async def _upsert_summary(
    repo: RepoClient, number: int, plan: ReviewPlan, comment_id: int | None
) -> int:
    if comment_id is None:
        return await repo.create_issue_comment(number, plan.summary_body)
    await repo.update_issue_comment(comment_id, plan.summary_body)
    return comment_id
