"""RepoClient's writes: check runs, the review, comments, reactions. A write that may have
reached GitHub is not repeated (see app.github.retry); a review is never repeated at all."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, Literal, cast

from app.github.parse import object_id, read
from app.github.payloads import REACTIONS, check_output, check_run_updates, review_comment
from app.github.repo_base import RepoBase
from app.github.types import CHECK_NAME, CheckAction, Conclusion, GitHubError, ReviewRejected
from app.review.plan import Annotation, InlineComment

ReviewEvent = Literal["COMMENT", "REQUEST_CHANGES", "APPROVE"]


class RepoWrites(RepoBase):
    async def create_check_run(
        self,
        head_sha: str,
        *,
        status: Literal["queued", "in_progress", "completed"] = "in_progress",
        title: str,
        summary: str,
        conclusion: Conclusion | None = None,
        external_id: str | None = None,
    ) -> int:
        """A new CHECK_NAME run on `head_sha`. A `conclusion` makes it completed at once."""
        body: dict[str, Any] = {
            "name": CHECK_NAME,
            "head_sha": head_sha,
            "status": "completed" if conclusion is not None else status,
            "output": check_output(title, summary),
        }
        if conclusion is not None:
            body["conclusion"] = conclusion
        if external_id is not None:
            body["external_id"] = external_id
        response = await self._call(
            lambda: self._rest.checks.async_create(self.owner, self.name, data=cast(Any, body))
        )
        return read("the new check run", object_id, response)

    async def complete_check_run(
        self,
        check_run_id: int,
        *,
        conclusion: Conclusion,
        title: str,
        summary: str,
        text: str | None = None,
        annotations: Sequence[Annotation] = (),
        actions: Sequence[CheckAction] = (),
    ) -> None:
        """Complete the run (with `actions`, its buttons), then append annotations 50 per
        request (GitHub's limit).

        A failure after the first request leaves the run completed with its conclusion and
        only some annotations; the GitHubError says so.
        """
        bodies = check_run_updates(
            conclusion=conclusion,
            title=title,
            summary=summary,
            text=text,
            annotations=annotations,
            actions=actions,
        )
        for sent, body in enumerate(bodies):
            try:
                await self._call(
                    partial(
                        self._rest.checks.async_update,
                        self.owner,
                        self.name,
                        check_run_id,
                        data=cast(Any, body),
                    )
                )
            except GitHubError as exc:
                if sent == 0:
                    raise
                raise GitHubError(
                    f"check run {check_run_id} completed, but annotations after the first "
                    f"{sent * 50} were not added: {exc.reason}",
                    status=exc.status,
                    transient=exc.transient,
                    retry_after=exc.retry_after,
                ) from None

    async def create_review(
        self,
        number: int,
        *,
        commit_id: str,
        body: str,
        event: ReviewEvent,
        comments: Sequence[InlineComment],
    ) -> int:
        """One review with all its inline comments, in one request, never repeated.

        GitHub rejects the whole review (422) when any comment is off the diff: ReviewRejected,
        with GitHub's message.
        """
        payload = {
            "commit_id": commit_id,
            "body": body,
            "event": event,
            "comments": [review_comment(c) for c in comments],
        }
        try:
            response = await self._call(
                lambda: self._rest.pulls.async_create_review(
                    self.owner, self.name, number, data=cast(Any, payload)
                ),
                retry=False,
            )
        except GitHubError as exc:
            if exc.status == 422:
                raise ReviewRejected(exc.reason, status=422) from None
            raise
        return read(f"the review on #{number}", object_id, response)

    async def create_issue_comment(self, number: int, body: str) -> int:
        response = await self._call(
            lambda: self._rest.issues.async_create_comment(self.owner, self.name, number, body=body)
        )
        return read(f"the new comment on #{number}", object_id, response)

    async def update_issue_comment(self, comment_id: int, body: str) -> None:
        await self._call(
            lambda: self._rest.issues.async_update_comment(
                self.owner, self.name, comment_id, body=body
            )
        )

    async def react(self, comment_id: int, content: str, *, review: bool = False) -> None:
        """React to an issue comment (e.g. "eyes" on a slash command), or with `review` to a
        review comment (a command in a finding's thread)."""
        if content not in REACTIONS:
            raise ValueError(f"GitHub has no reaction {content!r}: one of {sorted(REACTIONS)}")
        create = (
            self._rest.reactions.async_create_for_pull_request_review_comment
            if review
            else self._rest.reactions.async_create_for_issue_comment
        )
        await self._call(
            lambda: create(self.owner, self.name, comment_id, content=cast(Any, content))
        )

    async def reply_to_review_comment(self, number: int, comment_id: int, body: str) -> int:
        response = await self._call(
            lambda: self._rest.pulls.async_create_reply_for_review_comment(
                self.owner, self.name, number, comment_id, body=body
            )
        )
        return read(f"the reply on #{number}", object_id, response)
