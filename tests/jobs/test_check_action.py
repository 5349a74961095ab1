"""The check run's "Re-review fully" button: offered on every completed review, and pressing
it (a `check_run` `requested_action` webhook) queues a full review of that head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import WebhookError
from app.jobs.payloads import ActionJob, ReviewJob
from app.jobs.routing import route
from tests.fakes import github_payloads as gh
from tests.fakes.anthropic_api import tool_answer
from tests.fakes.github_state import Pull
from tests.jobs import World, world
from tests.jobs.model_calls import answer


@pytest.fixture
async def w(engine: AsyncEngine, tmp_path: Path) -> Any:
    async with world(engine, tmp_path) as built:
        built.llm.respond_with(lambda _: tool_answer(answer()))
        yield built


def pressed(
    w: World, pr: Pull, *, app_id: int | None = None, numbers: bool = True, by: str = "maintainer"
) -> Any:
    payload = gh.check_run_requested_action(
        app_id=w.github.app_id if app_id is None else app_id,
        numbers=(pr.number,) if numbers else (),
        head=pr.head_sha,
    )
    payload["sender"] = payload["sender"] | {"login": by}
    payload["repository"] = payload["repository"] | {
        "id": w.repo.id,
        "full_name": w.repo.full_name,
    }
    payload["installation"] = {"id": w.repo.installation_id}
    [job] = route("check_run", payload)
    return job


async def test_a_completed_review_offers_the_button(w: World) -> None:
    pr = w.pull()
    await w.run(w.review_job(pr))

    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert check.actions == [
        {
            "label": "Re-review fully",
            "description": "Review every file again, model included",
            "identifier": "full-review",
        }
    ]


@pytest.mark.parametrize("numbers", [True, False], ids=["named", "fork"])
async def test_pressing_it_reviews_the_head_again_in_full(w: World, numbers: bool) -> None:
    pr = w.pull()
    await w.run(w.review_job(pr))
    assert len(w.llm.requests) == 1

    await w.run(pressed(w, pr, numbers=numbers))
    review = await w.run_next()

    assert ReviewJob.model_validate(review.payload).trigger == "check_run.requested_action"
    assert len(w.llm.requests) == 2  # same head, yet the model reviewed it again: a full review
    runs = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert [r.status for r in runs] == ["completed", "completed"]


@pytest.mark.parametrize("level", ["read", "triage", "none"])
async def test_a_press_by_someone_who_cannot_push_queues_nothing(w: World, level: str) -> None:
    # Like `/backend-review review`: a full model review is for the people who may push.
    pr = w.pull()
    await w.run(w.review_job(pr))
    w.github.set_permission(w.repo, "octocat", level)
    before = len(w.llm.requests)

    await w.run(pressed(w, pr, by="octocat"))

    assert await w.queue.claim() is None
    assert len(w.llm.requests) == before


async def test_a_press_without_a_sender_queues_nothing(w: World) -> None:
    # A job queued before the sender was kept: who pressed is unknown, so nothing runs.
    pr = w.pull()
    job = pressed(w, pr)
    job.payload.pop("sender")

    await w.run(job)

    assert await w.queue.claim() is None


async def test_a_button_on_another_apps_check_run_does_nothing(w: World) -> None:
    pr = w.pull()

    await w.run(pressed(w, pr, app_id=w.github.app_id + 1))

    assert await w.queue.claim() is None
    assert w.github.calls == []


def test_routing_takes_only_our_identifier() -> None:
    [job] = route("check_run", gh.check_run_requested_action())
    action = ActionJob.model_validate(job.payload)
    assert (job.kind, action.numbers, action.app_id) == ("requested_action", (7,), 424242)
    assert route("check_run", gh.check_run_requested_action("something-else")) == ()
    broken = gh.check_run_requested_action()
    del broken["requested_action"]
    with pytest.raises(WebhookError, match="requested_action"):
        route("check_run", broken)
