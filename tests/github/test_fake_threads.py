"""The fake GitHub's review threads (GraphQL) and check-run actions, driven by githubkit as the
app drives them: their shapes and their errors are GitHub's."""

from __future__ import annotations

from typing import Any

import pytest
from githubkit import GitHub
from githubkit.exception import GraphQLFailed, RequestFailed

from app.github.threads import THREADS_QUERY, resolve_mutation
from tests.fakes.github_server import FakeGitHub
from tests.fakes.github_state import Pull
from tests.fakes.github_threads import thread_id
from tests.github.test_fake_github import NAME, OWNER, client, error_json, installed

pytest_plugins = ["tests.github.test_fake_github"]

LINE = {"path": "app/api/refunds.py", "line": 3, "side": "RIGHT"}


async def _comment(gh: GitHub[Any], pr: Pull, body: str) -> int:
    made = await gh.rest.pulls.async_create_review_comment(
        OWNER,
        NAME,
        7,
        commit_id=pr.head_sha,
        body=body,
        **LINE,  # type: ignore[arg-type]
    )
    return made.parsed_data.id


def _vars(after: str | None = None) -> dict[str, Any]:
    return {"owner": OWNER, "name": NAME, "pr": 7, "after": after}


async def test_threads_list_roots_replies_and_who_wrote_them(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    first = await _comment(gh, pr, "ours")
    await _comment(gh, pr, "ours too")
    [root, _] = fake.review_comments_on(pr.repo, 7)
    fake.add_thread_reply(root, "octocat", "why?")

    data = await gh.async_graphql(THREADS_QUERY, _vars())

    threads = data["repository"]["pullRequest"]["reviewThreads"]
    assert threads["pageInfo"]["hasNextPage"] is False
    one, two = threads["nodes"]
    assert (one["id"], one["isResolved"]) == (thread_id(root), False)
    assert one["comments"]["totalCount"] == 2
    assert [c["author"] for c in one["comments"]["nodes"]] == [
        {"__typename": "Bot", "login": "backend-review"},  # GraphQL drops "[bot]"
        {"__typename": "User", "login": "octocat"},
    ]
    assert one["comments"]["nodes"][0]["databaseId"] == first
    assert one["last"]["nodes"] == [
        {"body": "why?", "author": {"__typename": "User", "login": "octocat"}}
    ]
    assert two["comments"]["totalCount"] == 1


async def test_resolving_answers_each_thread_on_its_own(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    await _comment(gh, pr, "ours")
    [root] = fake.review_comments_on(pr.repo, 7)
    wanted = {"t0": thread_id(root), "t1": "PRRT_nothing"}

    with pytest.raises(GraphQLFailed) as partial:
        await gh.async_graphql(resolve_mutation(2), wanted)

    answer = partial.value.response
    assert answer.data == {
        "t0": {"thread": {"id": thread_id(root), "isResolved": True}},
        "t1": None,
    }
    [error] = answer.errors or []
    assert (error.type, error.path) == ("NOT_FOUND", ["t1"])
    assert error.message == "Could not resolve to a node with the global id of 'PRRT_nothing'"
    assert fake.resolved_threads == {root.id: "backend-review[bot]"}
    data = await gh.async_graphql(THREADS_QUERY, _vars())
    assert data["repository"]["pullRequest"]["reviewThreads"]["nodes"][0]["isResolved"] is True


async def test_resolving_needs_pull_requests_write(fake: FakeGitHub, pr: Pull) -> None:
    app_gh = client(fake)
    await _comment(installed(app_gh, fake, pr.repo), pr, "ours")
    [root] = fake.review_comments_on(pr.repo, 7)
    reader = app_gh.with_auth(
        app_gh.auth.as_installation(
            42,
            permissions={"pull_requests": "read", "contents": "read"},  # type: ignore[arg-type]
        )
    )
    with pytest.raises(GraphQLFailed) as refused:
        await reader.async_graphql(resolve_mutation(1), {"t0": thread_id(root)})
    [error] = refused.value.response.errors or []
    assert (error.type, error.message) == ("FORBIDDEN", "Resource not accessible by integration")
    assert fake.resolved_threads == {}


async def test_bad_queries_get_githubs_validation_answers(pr: Pull, gh: GitHub[Any]) -> None:
    too_many = THREADS_QUERY.replace("comments(first: 100)", "comments(first: 101)")
    with pytest.raises(GraphQLFailed, match="exceeds the `first` limit of 100"):
        await gh.async_graphql(too_many, _vars())
    with pytest.raises(GraphQLFailed, match="provided invalid value"):
        await gh.async_graphql(resolve_mutation(1), {"t0": 5})
    undeclared = resolve_mutation(1).replace("$t0: ID!", "$x: ID!")
    with pytest.raises(GraphQLFailed, match="not declared"):
        await gh.async_graphql(undeclared, {"x": "a"})


async def test_threads_page_by_cursor(fake: FakeGitHub, pr: Pull, gh: GitHub[Any]) -> None:
    for n in range(3):
        await _comment(gh, pr, f"c{n}")
    small = THREADS_QUERY.replace("reviewThreads(first: 100", "reviewThreads(first: 2")
    first = (await gh.async_graphql(small, _vars()))["repository"]["pullRequest"]["reviewThreads"]
    assert (len(first["nodes"]), first["pageInfo"]["hasNextPage"]) == (2, True)
    after = first["pageInfo"]["endCursor"]
    rest = (await gh.async_graphql(small, _vars(after)))["repository"]["pullRequest"]
    assert [n["comments"]["totalCount"] for n in rest["reviewThreads"]["nodes"]] == [1]


async def test_check_run_actions_are_checked_and_kept(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    made = await gh.rest.checks.async_create(
        OWNER, NAME, name="backend-review", head_sha=pr.head_sha, status="in_progress",
        output={"title": "t", "summary": "s"},
    )  # fmt: skip
    url = f"/repos/{OWNER}/{NAME}/check-runs/{made.parsed_data.id}"
    button = {"label": "Re-review fully", "description": "Again", "identifier": "full-review"}
    # githubkit checks these limits itself: sent raw, the fake must refuse them as GitHub does.
    with pytest.raises(RequestFailed) as long_label:
        await gh.arequest("PATCH", url, json={"actions": [button | {"label": "x" * 21}]})
    assert error_json(long_label.value)["message"].endswith(
        "Only 20 characters are allowed in 'label'."
    )
    with pytest.raises(RequestFailed) as four:
        await gh.arequest("PATCH", url, json={"actions": [button] * 4})
    assert "No more than 3 items are allowed; 4 were supplied." in error_json(four.value)["message"]
    with pytest.raises(RequestFailed) as unnamed:
        await gh.arequest("PATCH", url, json={"actions": [{"label": "a", "description": "b"}]})
    assert '"identifier" wasn\'t supplied.' in error_json(unnamed.value)["message"]
    await gh.rest.checks.async_update(OWNER, NAME, made.parsed_data.id, actions=[button])
    [run] = fake.check_runs_for(pr.repo, pr.head_sha)
    assert run.actions == [button]
