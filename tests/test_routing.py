from __future__ import annotations

import pytest

from app.errors import WebhookError
from app.routing import CommandJob, ReviewJob, route
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


@pytest.mark.parametrize("action", ["closed", "labeled", "edited", "converted_to_draft", None])
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


def test_rerequested_check_without_pull_requests_queues_nothing() -> None:
    assert route("check_run", gh.check_run_rerequested(())) == ()


def test_unknown_event_queues_nothing() -> None:
    assert route("star", {"action": "created"}) == ()


def test_missing_field_names_its_path() -> None:
    payload = gh.pull_request()
    del payload["pull_request"]["head"]["sha"]
    with pytest.raises(WebhookError) as caught:
        route("pull_request", payload)
    assert caught.value.status == 400
    assert "pull_request.head.sha" in caught.value.reason
