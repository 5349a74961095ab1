"""Issue comments (the bot's summary, people's slash commands) and reactions to comments."""

from __future__ import annotations

from tests.fakes import github_json as js
from tests.fakes.github_http import (
    Ctx,
    Reply,
    Route,
    invalid,
    not_found,
    paginate,
    required_body,
    route,
)
from tests.fakes.github_objects import IssueComment, Reaction
from tests.fakes.github_reviews import WRITE_PR, find_review_comment
from tests.fakes.github_routes import READ_PR, pull_of, repo_of
from tests.fakes.github_state import GitHubState

ROUTES: list[Route] = []
READ_ISSUES, WRITE_ISSUES = ("issues", "read"), ("issues", "write")
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


def _find_issue_comment(state: GitHubState, ctx: Ctx) -> IssueComment:
    repo = repo_of(ctx)
    for comment in state.issue_comments:
        if str(comment.id) == ctx.params["comment_id"] and comment.repo == repo.full_name:
            return comment
    raise not_found("/issues/comments#get-an-issue-comment")


@route(
    ROUTES, "GET", "/repos/{owner}/{repo}/issues/{number}/comments", "token", READ_ISSUES, READ_PR
)
def list_issue_comments(state: GitHubState, ctx: Ctx) -> Reply:
    pull = pull_of(state, ctx)
    comments = state.issue_comments_on(pull.repo, pull.number, by_bot=False)
    return paginate(ctx, [js.issue_comment(ctx.api, c) for c in comments])


@route(
    ROUTES,
    "POST",
    "/repos/{owner}/{repo}/issues/{number}/comments",
    "token",
    WRITE_ISSUES,
    WRITE_PR,
)
def create_issue_comment(state: GitHubState, ctx: Ctx) -> Reply:
    pull = pull_of(state, ctx)
    text = required_body(ctx, "IssueComment", "/issues/comments#create-an-issue-comment")
    moment = state.now()
    comment = IssueComment(
        state.next_id(2000000000), pull.number, pull.repo.full_name, state.bot, text, moment, moment
    )
    state.issue_comments.append(comment)
    return Reply(201, js.issue_comment(ctx.api, comment))


@route(
    ROUTES,
    "GET",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    "token",
    READ_ISSUES,
    READ_PR,
)
def get_issue_comment(state: GitHubState, ctx: Ctx) -> Reply:
    return Reply(200, js.issue_comment(ctx.api, _find_issue_comment(state, ctx)))


@route(
    ROUTES,
    "PATCH",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    "token",
    WRITE_ISSUES,
    WRITE_PR,
)
def update_issue_comment(state: GitHubState, ctx: Ctx) -> Reply:
    comment = _find_issue_comment(state, ctx)
    text = required_body(ctx, "IssueComment", "/issues/comments#update-an-issue-comment")
    comment.edits.append(comment.body)
    comment.body = text
    comment.updated_at = state.now()
    return Reply(200, js.issue_comment(ctx.api, comment))


def _react(state: GitHubState, ctx: Ctx, reactions: list[Reaction], doc: str) -> Reply:
    content = ctx.json_body().get("content")
    if content not in REACTIONS:
        raise invalid(doc, {"resource": "Reaction", "code": "invalid", "field": "content"})
    for existing in reactions:
        if existing.user == state.bot and existing.content == content:
            return Reply(200, js.reaction(ctx.api, existing))
    reaction = Reaction(state.next_id(190000000), state.bot, str(content), state.now())
    reactions.append(reaction)
    return Reply(201, js.reaction(ctx.api, reaction))


@route(
    ROUTES, "POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", "token",
    WRITE_ISSUES, WRITE_PR,
)  # fmt: skip
def react_to_issue_comment(state: GitHubState, ctx: Ctx) -> Reply:
    comment = _find_issue_comment(state, ctx)
    doc = "/reactions/reactions#create-reaction-for-an-issue-comment"
    return _react(state, ctx, comment.reactions, doc)


@route(
    ROUTES, "POST", "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions", "token",
    WRITE_PR,
)  # fmt: skip
def react_to_review_comment(state: GitHubState, ctx: Ctx) -> Reply:
    comment = find_review_comment(state, ctx, None)
    reactions = state.review_reactions.setdefault(comment.id, [])
    doc = "/reactions/reactions#create-reaction-for-a-pull-request-review-comment"
    return _react(state, ctx, reactions, doc)
