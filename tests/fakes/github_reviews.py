"""Reviews and review comments, checked against the diff the way GitHub checks them.

Every inline comment is checked against the diff of its `commit_id` (the PR head when absent):
the path must be in that diff, `line` on a line of a hunk on its `side` (RIGHT: added or
context lines by new-file number; LEFT: removed or context lines by old-file number), and a
multi-line comment's `start_line` before `line` in the same hunk. One bad comment fails the
whole review with 422 and nothing is stored, as on GitHub. A single comment (and a reply)
makes a review of its own in state COMMENTED, as on GitHub.

Error wording is what GitHub has been seen to send: `"Line could not be resolved"` and the
"Pull request review thread ..." sentences for reviews (several joined into one sentence),
`pull_request_review_thread.*` errors for single comments. Less certain, so not worth
matching on: the wording for an unknown path and for a missing review body.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tests.fakes import github_json as js
from tests.fakes.github_diff import FileDiff
from tests.fakes.github_http import (
    Ctx,
    Fail,
    Reply,
    Route,
    invalid,
    not_found,
    paginate,
    required_body,
    route,
)
from tests.fakes.github_objects import Pull, Review, ReviewComment
from tests.fakes.github_routes import READ_PR, SetupError, pull_of, repo_of
from tests.fakes.github_state import GitHubState

ROUTES: list[Route] = []
WRITE_PR = ("pull_requests", "write")
SIDES = ("LEFT", "RIGHT")
EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
REVIEW_DOC = "/pulls/reviews#create-a-review-for-a-pull-request"
_REVIEW_SENTENCES = {
    "path": "Path could not be resolved",
    "line": "Line could not be resolved",
    "start_hunk": (
        "Pull request review thread start line must be part of the same hunk as the line."
    ),
    "start_order": "Pull request review thread start line must precede the end line.",
}
_THREAD_ERRORS = {
    "path": ("path", "pull_request_review_thread.path could not be resolved"),
    "line": ("line", "pull_request_review_thread.line must be part of the diff"),
    "start_hunk": (
        "start_line",
        "pull_request_review_thread.start_line must be part of the same hunk as the line.",
    ),
    "start_order": (
        "start_line",
        "pull_request_review_thread.start_line must precede the end line.",
    ),
}


@dataclass
class Anchor:
    file: FileDiff
    line: int | None
    side: str | None
    start_line: int | None = None
    start_side: str | None = None
    position: int | None = None


def _index_in_hunk(file: FileDiff, hunk: int, line: int, side: str) -> int:
    for index, (_, old, new) in enumerate(file.hunks[hunk].numbered()):
        if (new if side == "RIGHT" else old) == line:
            return index
    return -1


def resolve_anchor(files: dict[str, FileDiff], c: dict[str, Any]) -> Anchor | str:
    """Where a comment lands, or what is wrong with it (a key of `_REVIEW_SENTENCES`)."""
    file = files.get(c.get("path") or "")
    if file is None:
        return "path"
    line, side = c.get("line"), c.get("side") or "RIGHT"
    position = c.get("position")
    if line is None and isinstance(position, int):
        hit = file.at_position(position)
        return "line" if hit is None else Anchor(file, hit[0], hit[1], position=position)
    if not isinstance(line, int) or side not in SIDES:
        return "line"
    end = file.hunk_index(line, side)
    if end is None:
        return "line"
    start = c.get("start_line")
    if start is None:
        return Anchor(file, line, side)
    start_side = c.get("start_side") or side
    if not isinstance(start, int) or start_side not in SIDES:
        return "start_hunk"
    if start_side == side and start >= line:
        return "start_order"
    if file.hunk_index(start, start_side) != end:
        return "start_hunk"
    if _index_in_hunk(file, end, start, start_side) >= _index_in_hunk(file, end, line, side):
        return "start_order"
    return Anchor(file, line, side, start, start_side)


def _sentence(parts: list[str]) -> str:
    """Rails' to_sentence, which is how GitHub joins several review errors."""
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + ", and " + parts[-1]


def _diff_files(pull: Pull, commit_id: str) -> dict[str, FileDiff]:
    if commit_id not in pull.diffs:
        raise SetupError(f"no diff for commit {commit_id[:7]} of PR #{pull.number}")
    return {f.path: f for f in pull.files(commit_id)}


def _comment(
    state: GitHubState, pull: Pull, review_id: int, commit_id: str, body: str, anchor: Anchor,
    *, file_level: bool = False,
) -> ReviewComment:  # fmt: skip
    moment = state.now()
    line, side = (None, None) if file_level else (anchor.line, anchor.side)
    hunk = "" if line is None or side is None else anchor.file.diff_hunk(line, side)
    return ReviewComment(
        state.next_id(2100000000), review_id, pull.number, pull.repo.full_name, state.bot, body,
        anchor.file.path, commit_id, line, side, anchor.start_line, anchor.start_side,
        "file" if file_level else "line", hunk, None, moment, moment, anchor.position,
    )  # fmt: skip


def _unprocessable(doc: str, *errors: str) -> Fail:
    """GitHub's review-style 422: a message and a list of sentences."""
    return Fail(Reply(422, js.error("Unprocessable Entity", doc, 422, errors=list(errors))))


def _commit_of(pull: Pull, body: dict[str, Any], doc: str) -> str:
    commit_id = str(body.get("commit_id") or pull.head_sha)
    if commit_id not in pull.diffs and commit_id not in pull.repo.commits:
        raise _unprocessable(doc, f"No commit found for SHA: {commit_id}")
    return commit_id


# --- reviews --------------------------------------------------------------------------------


@route(ROUTES, "POST", "/repos/{owner}/{repo}/pulls/{number}/reviews", "token", WRITE_PR)
def create_review(state: GitHubState, ctx: Ctx) -> Reply:
    pull = pull_of(state, ctx)
    body = ctx.json_body()
    event = body.get("event")
    if event is not None and event not in EVENTS:
        raise invalid(
            REVIEW_DOC, {"resource": "PullRequestReview", "code": "invalid", "field": "event"}
        )
    comments = body.get("comments") or []
    text = body.get("body") or ""

    if not text and (event == "REQUEST_CHANGES" or (event == "COMMENT" and not comments)):
        raise _unprocessable(REVIEW_DOC, f"Review body is required for {event}")
    if event is None and any(
        r.state == "PENDING" and r.user == state.bot
        for r in state.reviews_on(pull.repo, pull.number)
    ):
        raise _unprocessable(REVIEW_DOC, "User can only have one pending review per pull request")
    commit_id = _commit_of(pull, body, REVIEW_DOC)
    files = _diff_files(pull, commit_id) if comments else {}
    anchors: list[Anchor] = []
    problems: list[str] = []
    for comment in comments:
        found = resolve_anchor(files, comment)
        if isinstance(found, str):
            if _REVIEW_SENTENCES[found] not in problems:
                problems.append(_REVIEW_SENTENCES[found])
        else:
            anchors.append(found)
    if problems:
        raise _unprocessable(REVIEW_DOC, _sentence(problems))
    review = Review(
        state.next_id(80000000), pull.number, pull.repo.full_name, state.bot, text,
        EVENTS.get(event or "", "PENDING"), commit_id, None if event is None else state.now(),
    )  # fmt: skip
    for comment, anchor in zip(comments, anchors, strict=True):
        review.comments.append(
            _comment(state, pull, review.id, commit_id, str(comment.get("body", "")), anchor)
        )
    state.reviews.append(review)
    return Reply(200, js.review(ctx.api, review))


@route(ROUTES, "GET", "/repos/{owner}/{repo}/pulls/{number}/reviews", "token", READ_PR)
def list_reviews(state: GitHubState, ctx: Ctx) -> Reply:
    pull = pull_of(state, ctx)
    reviews = state.reviews_on(pull.repo, pull.number, by_bot=False)
    return paginate(ctx, [js.review(ctx.api, r) for r in reviews])


@route(ROUTES, "GET", "/repos/{owner}/{repo}/pulls/{number}/reviews/{review_id}", "token", READ_PR)
def get_review(state: GitHubState, ctx: Ctx) -> Reply:
    pull = pull_of(state, ctx)
    for review in state.reviews_on(pull.repo, pull.number, by_bot=False):
        if str(review.id) == ctx.params["review_id"]:
            return Reply(200, js.review(ctx.api, review))
    raise not_found("/pulls/reviews#get-a-review-for-a-pull-request")


@route(
    ROUTES, "GET", "/repos/{owner}/{repo}/pulls/{number}/reviews/{review_id}/comments", "token",
    READ_PR,
)  # fmt: skip
def list_comments_for_review(state: GitHubState, ctx: Ctx) -> Reply:
    pull = pull_of(state, ctx)
    for review in state.reviews_on(pull.repo, pull.number, by_bot=False):
        if str(review.id) == ctx.params["review_id"]:
            comments = sorted(review.comments, key=lambda c: c.id)
            return paginate(ctx, [js.review_comment(ctx.api, c) for c in comments])
    raise not_found("/pulls/reviews#list-comments-for-a-pull-request-review")


# --- review comments ------------------------------------------------------------------------


def find_review_comment(state: GitHubState, ctx: Ctx, number: int | None) -> ReviewComment:
    repo = repo_of(ctx)
    for review in state.reviews:
        for comment in review.comments:
            same = str(comment.id) == ctx.params["comment_id"] and comment.repo == repo.full_name
            if same and (number is None or comment.pull_number == number):
                return comment
    raise not_found("/pulls/comments#get-a-review-comment-for-a-pull-request")


def _reply(state: GitHubState, pull: Pull, parent: ReviewComment, text: str) -> ReviewComment:
    """A reply sits where its thread's first comment sits, in a review of its own."""
    root = parent
    if parent.in_reply_to_id is not None:  # a reply to a reply joins the thread's first comment
        root = next(c for r in state.reviews for c in r.comments if c.id == parent.in_reply_to_id)
    moment = state.now()
    review = Review(
        state.next_id(80000000), pull.number, pull.repo.full_name, state.bot, "", "COMMENTED",
        root.commit_id, moment,
    )  # fmt: skip
    comment = replace(
        root, id=state.next_id(2100000000), review_id=review.id, user=state.bot, body=text,
        in_reply_to_id=root.id, created_at=moment, updated_at=moment,
    )  # fmt: skip
    review.comments.append(comment)
    state.reviews.append(review)
    return comment


@route(ROUTES, "GET", "/repos/{owner}/{repo}/pulls/{number}/comments", "token", READ_PR)
def list_review_comments(state: GitHubState, ctx: Ctx) -> Reply:
    pull = pull_of(state, ctx)
    comments = sorted(
        state.review_comments_on(pull.repo, pull.number, by_bot=False), key=lambda c: c.id
    )
    return paginate(ctx, [js.review_comment(ctx.api, c) for c in comments])


@route(ROUTES, "POST", "/repos/{owner}/{repo}/pulls/{number}/comments", "token", WRITE_PR)
def create_review_comment(state: GitHubState, ctx: Ctx) -> Reply:
    doc = "/pulls/comments#create-a-review-comment-for-a-pull-request"
    pull = pull_of(state, ctx)
    body = ctx.json_body()
    text = required_body(ctx, "PullRequestReviewComment", doc)
    if body.get("in_reply_to") is not None:
        ctx.params["comment_id"] = str(body["in_reply_to"])
        parent = find_review_comment(state, ctx, pull.number)
        return Reply(201, js.review_comment(ctx.api, _reply(state, pull, parent, text)))
    missing = [k for k in ("commit_id", "path") if not body.get(k)]
    if missing:
        resource = "PullRequestReviewComment"
        raise invalid(
            doc, *({"resource": resource, "code": "missing_field", "field": k} for k in missing)
        )
    commit_id = _commit_of(pull, body, doc)
    files = _diff_files(pull, commit_id)
    file_level = body.get("subject_type") == "file"
    found: Anchor | str
    if file_level:  # only the path matters: the file must be in the diff
        path = body["path"]
        found = Anchor(files[path], None, None) if path in files else "path"
    else:
        found = resolve_anchor(files, body)
    if isinstance(found, str):
        field, message = _THREAD_ERRORS[found]
        errors: list[dict[str, Any]] = [{
            "resource": "PullRequestReviewComment", "code": "custom",
            "field": f"pull_request_review_thread.{field}", "message": message,
        }]  # fmt: skip
        if found == "line":
            errors.append({
                "resource": "PullRequestReviewComment", "code": "missing_field",
                "field": "pull_request_review_thread.diff_hunk",
            })  # fmt: skip
        raise invalid(doc, *errors)
    review = Review(
        state.next_id(80000000), pull.number, pull.repo.full_name, state.bot, "", "COMMENTED",
        commit_id, state.now(),
    )  # fmt: skip
    comment = _comment(state, pull, review.id, commit_id, text, found, file_level=file_level)
    review.comments.append(comment)
    state.reviews.append(review)
    return Reply(201, js.review_comment(ctx.api, comment))


@route(
    ROUTES, "POST", "/repos/{owner}/{repo}/pulls/{number}/comments/{comment_id}/replies", "token",
    WRITE_PR,
)  # fmt: skip
def reply_to_review_comment(state: GitHubState, ctx: Ctx) -> Reply:
    doc = "/pulls/comments#create-a-reply-for-a-review-comment"
    pull = pull_of(state, ctx)
    text = required_body(ctx, "PullRequestReviewComment", doc)
    parent = find_review_comment(state, ctx, pull.number)
    return Reply(201, js.review_comment(ctx.api, _reply(state, pull, parent, text)))


@route(ROUTES, "GET", "/repos/{owner}/{repo}/pulls/comments/{comment_id}", "token", READ_PR)
def get_review_comment(state: GitHubState, ctx: Ctx) -> Reply:
    return Reply(200, js.review_comment(ctx.api, find_review_comment(state, ctx, None)))


@route(ROUTES, "PATCH", "/repos/{owner}/{repo}/pulls/comments/{comment_id}", "token", WRITE_PR)
def update_review_comment(state: GitHubState, ctx: Ctx) -> Reply:
    doc = "/pulls/comments#update-a-review-comment-for-a-pull-request"
    comment = find_review_comment(state, ctx, None)
    comment.body = required_body(ctx, "PullRequestReviewComment", doc)
    comment.updated_at = state.now()
    return Reply(200, js.review_comment(ctx.api, comment))
