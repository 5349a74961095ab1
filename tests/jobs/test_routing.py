from __future__ import annotations

import pytest

from app.errors import WebhookError
from app.jobs.payloads import ClosedJob, CommandJob, MergeGroupJob, RerunJob, ReviewJob
from app.jobs.routing import route
from tests.fakes import github_payloads as gh


@pytest.mark.parametrize("action", ["opened", "reopened", "ready_for_review", "synchronize"])
def test_pull_request_actions_that_review(action: str) -> None:
    [job] = route("pull_request", gh.pull_request(action))
    review = ReviewJob.model_validate(job.payload)
    assert (review.number, review.installation_id, review.trigger) == (
        7,
        42,
        f"pull_request.{action}",
    )
    assert review.before_sha == ("c" * 40 if action == "synchronize" else None)


@pytest.mark.parametrize("action", ["labeled", "edited", "converted_to_draft", None])
def test_pull_request_actions_that_do_not(action: str | None) -> None:
    assert route("pull_request", gh.pull_request(action or "")) == ()


@pytest.mark.parametrize(
    "body",
    ["/backend-review", "  /backend-review help", "/backend-review ignore br-1 not a bug\nthanks"],
)
def test_slash_commands_on_pull_requests(body: str) -> None:
    [job] = route("issue_comment", gh.issue_comment(body))
    command = CommandJob.model_validate(job.payload)
    assert (command.author, command.comment_id, command.body) == ("octocat", 555, body)


@pytest.mark.parametrize(
    ("body", "kwargs"),
    [
        ("LGTM", {}),
        ("please run /backend-review", {}),
        ("/backend-reviewer", {}),
        ("/backend-review", {"on_pull_request": False}),
        ("/backend-review", {"user": {"login": "backend-review[bot]", "type": "Bot"}}),
    ],
)
def test_comments_that_are_not_commands(body: str, kwargs: dict[str, object]) -> None:
    assert route("issue_comment", gh.issue_comment(body, **kwargs)) == ()  # type: ignore[arg-type]


def test_edited_comment_is_not_a_command() -> None:
    payload = gh.issue_comment("/backend-review") | {"action": "edited"}
    assert route("issue_comment", payload) == ()


def test_retargeting_a_pull_request_reviews_it_again() -> None:
    retarget = gh.pull_request("edited") | {"changes": {"base": {"ref": {"from": "release"}}}}
    [job] = route("pull_request", retarget)
    assert ReviewJob.model_validate(job.payload).trigger == "pull_request.edited"
    title_only = gh.pull_request("edited") | {"changes": {"title": {"from": "WIP"}}}
    assert route("pull_request", title_only) == ()


def test_a_closed_pull_request_supersedes_its_queued_reviews() -> None:
    [review] = route("pull_request", gh.pull_request("opened"))
    [closed] = route("pull_request", gh.pull_request("closed"))
    assert closed.kind == "closed"
    assert closed.coalesce_key == review.coalesce_key
    assert ClosedJob.model_validate(closed.payload).number == 7


@pytest.mark.parametrize("event", ["check_run", "check_suite"])
def test_a_rerun_without_pull_requests_is_looked_up_by_commit(event: str) -> None:
    payload = (
        gh.check_run_rerequested(()) if event == "check_run" else gh.check_suite_rerequested(())
    )
    [job] = route(event, payload)
    rerun = RerunJob.model_validate(job.payload)
    assert (job.kind, rerun.trigger) == ("rerun", f"{event}.rerequested")
    assert rerun.head_sha == (("d" if event == "check_run" else "e") * 40)


def test_merge_group_checks_requested() -> None:
    [job] = route("merge_group", gh.merge_group())
    group = MergeGroupJob.model_validate(job.payload)
    assert (job.kind, group.head_sha) == ("merge_group", "f" * 40)
    assert group.head_ref.endswith(f"pr-7-{'a' * 40}")
    assert route("merge_group", gh.merge_group("destroyed")) == ()


def test_unknown_event_queues_nothing() -> None:
    assert route("star", {"action": "created"}) == ()


def test_missing_field_names_its_path() -> None:
    payload = gh.pull_request()
    del payload["pull_request"]["head"]["sha"]
    with pytest.raises(WebhookError) as caught:
        route("pull_request", payload)
    assert caught.value.status == 400
    assert "pull_request.head.sha" in caught.value.reason


def test_a_command_replied_in_a_review_thread_names_the_thread() -> None:
    [job] = route("pull_request_review_comment", gh.review_comment("/backend-review explain"))
    command = CommandJob.model_validate(job.payload)
    assert (command.number, command.comment_id, command.thread_root) == (7, 556, 900)
    [top] = route(
        "pull_request_review_comment",
        gh.review_comment("/backend-review ignore x", in_reply_to=None),
    )
    assert CommandJob.model_validate(top.payload).thread_root == 556  # its own thread's root


@pytest.mark.parametrize(
    "payload",
    [
        gh.review_comment("Good catch, fixed."),
        gh.review_comment("/backend-review explain", action="edited"),
        gh.review_comment("/backend-review", user={"login": "backend-review[bot]", "type": "Bot"}),
    ],
)
def test_review_comments_that_are_not_commands(payload: dict[str, object]) -> None:
    assert route("pull_request_review_comment", payload) == ()


def test_a_review_comment_without_its_pull_request_is_a_bad_request() -> None:
    payload = gh.review_comment("/backend-review explain")
    del payload["pull_request"]
    with pytest.raises(WebhookError, match="pull_request"):
        route("pull_request_review_comment", payload)
