"""The review job end to end in-process: fake GitHub, fake Messages API, a real database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import PermanentJobError
from app.jobs.handlers import build_dead_handlers, build_handlers
from app.jobs.worker import Worker
from app.review.markers import finding_ids, is_summary
from app.review.verify import VERIFY_TOOL
from app.store.jobs import BuriedJob, ClaimedJob, JobQueue
from app.store.tables import llm_usage
from tests.conftest import FakeClock, wait_for
from tests.fakes.anthropic_api import Answer, overloaded, tool_answer
from tests.jobs import ENDPOINT, LEDGER, REFUNDS, World, world
from tests.jobs.model_calls import answer, files_in, finding

LEDGER_ONLY = REFUNDS[REFUNDS.index("diff --git a/app/services/ledger.py") :]
# The same PR one commit later: the endpoint also logs (one more line at the end).
REFUNDS_V2 = REFUNDS.replace("@@ -0,0 +1,14 @@", "@@ -0,0 +1,15 @@").replace(
    "+    return refund\n+\n", "+    return refund\n+\n+log.info('refund created')\n"
)
DELTA_V2 = (
    "diff --git a/app/api/refunds.py b/app/api/refunds.py\nindex 1111111..1111112 100644\n"
    "--- a/app/api/refunds.py\n+++ b/app/api/refunds.py\n@@ -13,2 +13,3 @@\n"
    "     return refund\n \n+log.info('refund created')\n"
)


def _model_finding_on_first_file(body: dict[str, Any]) -> Answer:
    first = files_in(body)[0]
    lines = "11" if first == ENDPOINT else "12"
    title = f"Unchecked input in {first}"
    return tool_answer(answer(finding(path=first, lines=lines, rule="general", title=title)))


@pytest.fixture
async def w(engine: AsyncEngine, tmp_path: Path) -> Any:
    async with world(engine, tmp_path) as built:
        built.llm.respond_with(_model_finding_on_first_file)
        yield built


def _summaries(w: World, number: int) -> list[Any]:
    return [c for c in w.github.issue_comments_on(w.repo, number) if is_summary(c.body)]


async def test_an_opened_pr_gets_one_review_one_summary_and_a_completed_check(w: World) -> None:
    pr = w.pull()

    await w.run(w.review_job(pr))

    [review] = w.github.reviews_on(w.repo, pr.number)
    assert (review.state, review.commit_id) == ("COMMENTED", pr.head_sha)
    lines = {(c.path, c.line) for c in review.comments}
    assert (ENDPOINT, 4) in lines  # the secret, on its line
    assert (ENDPOINT, 11) in lines  # the model's finding, on the line it named
    [summary] = _summaries(w, pr.number)
    assert "Stripe live key" in summary.body
    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert (check.status, check.conclusion) == ("completed", "failure")
    assert check.annotations
    stored = await w.ctx.store.last_review(w.repo.id, pr.number)
    assert stored is not None
    assert stored.head_sha == pr.head_sha
    assert [f.where.path for f in stored.model_findings] == [ENDPOINT]
    async with w.ctx.store.engine.connect() as conn:
        [usage] = (await conn.execute(select(llm_usage))).mappings().all()
    assert (usage["outcome"], usage["number"]) == ("complete", pr.number)


async def test_the_same_head_again_posts_nothing_new_and_edits_the_summary(w: World) -> None:
    pr = w.pull()
    await w.run(w.review_job(pr))
    calls_to_model = len(w.llm.requests)

    await w.run(w.review_job(pr, trigger="check_run.rerequested"))

    assert len(w.github.reviews_on(w.repo, pr.number)) == 1
    [summary] = _summaries(w, pr.number)
    assert len(summary.edits) == 1  # edited in place, not posted again
    assert len(w.llm.requests) == calls_to_model  # same head: the model is not asked again
    checks = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert [c.conclusion for c in checks] == ["failure", "failure"]


async def test_a_push_reviews_only_the_changed_file_and_posts_only_new_findings(
    w: World,
) -> None:
    pr = w.pull()
    await w.run(w.review_job(pr))
    first_ids = {
        i for c in w.github.review_comments_on(w.repo, pr.number) for i in finding_ids(c.body)
    }
    w.llm.requests.clear()

    w.github.push(pr, REFUNDS_V2, delta=DELTA_V2)
    await w.run(w.review_job(pr, trigger="pull_request.synchronize"))

    [body] = w.llm.bodies
    assert files_in(body) == [ENDPOINT]  # the ledger did not change: not sent again
    reviews = w.github.reviews_on(w.repo, pr.number)
    assert len(reviews) <= 2
    new_ids = {i for r in reviews[1:] for c in r.comments for i in finding_ids(c.body)}
    assert not new_ids & first_ids  # nothing posted twice
    [summary] = _summaries(w, pr.number)
    assert len(summary.edits) == 1
    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert check.conclusion == "failure"


async def test_a_force_push_gets_a_full_review(w: World) -> None:
    pr = w.pull()
    await w.run(w.review_job(pr))
    w.llm.requests.clear()

    w.github.force_push(pr, REFUNDS_V2)
    await w.run(w.review_job(pr, trigger="pull_request.synchronize"))

    shown = sorted(p for body in w.llm.bodies for p in files_in(body))
    assert shown == [ENDPOINT, LEDGER]


async def test_a_fixed_finding_is_marked_resolved_in_the_summary(w: World) -> None:
    pr = w.pull()
    await w.run(w.review_job(pr))
    without_secret = REFUNDS.replace(
        '+STRIPE_KEY = "sk_live_51HqLyjWDarjtT1zdp7dcXAMPLEkeyABCDEF"', '+STRIPE_KEY = env("KEY")'
    )
    w.github.force_push(pr, without_secret)

    await w.run(w.review_job(pr, trigger="pull_request.synchronize"))

    [summary] = _summaries(w, pr.number)
    assert f"<b>Resolved in <code>{pr.head_sha[:12]}</code></b> (1)" in summary.body
    assert "Stripe live key" in summary.body.split("<b>Resolved")[1]


async def test_model_down_leaves_the_rule_findings_and_a_neutral_check(w: World) -> None:
    w.llm.respond_with(lambda _: overloaded())
    pr = w.pull(LEDGER_ONLY)

    await w.run(w.review_job(pr))

    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert check.conclusion == "neutral"
    assert "the model was unavailable" in check.output["title"]
    [summary] = _summaries(w, pr.number)
    assert "tests-missing" in summary.body or "Source changes without a test" in summary.body


async def test_drafts_wait_unless_configured(w: World) -> None:
    pr = w.pull(draft=True)

    await w.run(w.review_job(pr))

    assert w.github.check_runs_for(w.repo, pr.head_sha) == []
    w.github.set_file(w.repo, "main", ".github/backend-review.yml", "review_drafts: true\n")
    draft2 = w.pull(draft=True, number=pr.number + 1)
    await w.run(w.review_job(draft2))
    assert w.github.check_runs_for(w.repo, draft2.head_sha, "backend-review")


async def test_a_review_overtaken_while_the_model_works_is_not_published(w: World) -> None:
    pr = w.pull()
    await w.queue.enqueue([w.review_job(pr)])
    older = await w.queue.claim()
    assert older is not None
    model_api = w.llm.handler

    async def push_meanwhile(request: httpx2.Request) -> httpx2.Response:
        # A newer push arrives while the older review waits for the model.
        w.github.push(pr, REFUNDS_V2, delta=DELTA_V2)
        await w.queue.enqueue([w.review_job(pr, trigger="pull_request.synchronize")])
        return await model_api(request)

    w.llm.handler = push_meanwhile  # type: ignore[method-assign]

    await build_handlers(w.ctx)["review"](older)

    assert w.github.reviews_on(w.repo, pr.number) == []
    assert _summaries(w, pr.number) == []
    [check] = w.github.check_runs_for(w.repo, name="backend-review")
    assert check.conclusion == "cancelled"


async def test_a_review_overtaken_before_it_starts_does_nothing(w: World) -> None:
    pr = w.pull()
    await w.queue.enqueue([w.review_job(pr)])
    older = await w.queue.claim()
    assert older is not None
    await w.queue.enqueue([w.review_job(pr, trigger="pull_request.synchronize")])

    await build_handlers(w.ctx)["review"](older)

    assert w.github.check_runs_for(w.repo) == []
    assert w.llm.requests == []


async def test_a_refused_review_is_posted_without_inline_comments(w: World) -> None:
    pr = w.pull()
    w.github.fail_next(
        "POST",
        r"/pulls/\d+/reviews$",
        422,
        {"message": "Unprocessable Entity", "errors": ["Line could not be resolved"]},
    )

    await w.run(w.review_job(pr))

    [review] = w.github.reviews_on(w.repo, pr.number)
    assert review.comments == []
    [summary] = _summaries(w, pr.number)
    assert "GitHub refused the" in summary.body
    assert "Stripe live key" in summary.body


async def test_a_job_that_cannot_finish_fails_its_check_closed(w: World) -> None:
    pr = w.pull()
    w.github.fail_next("GET", rf"/issues/{pr.number}/comments$", 403)  # permanent

    with pytest.raises(PermanentJobError, match="GitHub"):
        await w.run(w.review_job(pr))

    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    # Not even the rules ran: `neutral` would pass branch protection, so it fails closed.
    assert (check.status, check.conclusion) == ("completed", "failure")
    assert check.output["title"] == "Review could not finish"


async def test_a_review_that_failed_to_post_is_retried_without_duplicates(w: World) -> None:
    whole_file = finding(path=ENDPOINT, lines=None, rule="general", title="No structured logs")
    w.llm.respond_with(lambda _: tool_answer(answer(whole_file)))
    pr = w.pull()
    w.github.fail_next("POST", r"/pulls/\d+/reviews$", 502)  # POSTs are not retried

    with pytest.raises(Exception, match="502"):
        await w.run(w.review_job(pr))
    [interrupted] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert (interrupted.status, interrupted.conclusion) == ("completed", "cancelled")

    await w.run(w.review_job(pr, trigger="check_run.rerequested"))  # supersedes the retry

    [review] = w.github.reviews_on(w.repo, pr.number)
    assert (ENDPOINT, 4) in {(c.path, c.line) for c in review.comments}
    [summary] = _summaries(w, pr.number)
    assert "No structured logs" in summary.body  # listed, and in no review body twice
    assert "No structured logs" not in review.body
    checks = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert [c.conclusion for c in checks] == ["cancelled", "failure"]


async def test_a_review_that_dies_at_claim_time_fails_its_check_run(
    w: World, clock: FakeClock
) -> None:
    pr = w.pull()
    engine = w.ctx.store.engine
    crashed = JobQueue(engine, worker_id="crashed", lease_seconds=30, max_attempts=1, clock=clock)
    await crashed.enqueue([w.review_job(pr)])
    job = await crashed.claim()
    assert job is not None
    # The attempt opens its check run as the job does, and then its worker is killed -9.
    repo = w.ctx.github.repo(w.repo.installation_id, w.repo.full_name)
    await repo.create_check_run(
        pr.head_sha, title="Reviewing…", summary="reviewing", external_id=str(job.id)
    )
    clock.advance(31)  # the lease runs out on the job's last attempt
    survivor = JobQueue(engine, worker_id="survivor", lease_seconds=30, max_attempts=1, clock=clock)
    worker = Worker(
        survivor,
        build_handlers(w.ctx),
        concurrency=1,
        poll_seconds=0.02,
        drain_seconds=1,
        on_dead=build_dead_handlers(w.ctx),
    )

    def closed() -> bool:
        [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
        return check.status == "completed"

    worker.start()
    try:
        await wait_for(closed)
    finally:
        await worker.stop()
    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert check.conclusion == "failure"
    assert check.output["title"] == "Review could not finish"
    assert "lease expired on each of 1 attempts" in check.output["summary"]
    assert w.github.reviews_on(w.repo, pr.number) == []  # it never ran again


async def test_a_dead_review_with_an_unreadable_payload_closes_nothing(w: World) -> None:
    hook = build_dead_handlers(w.ctx)["review"]
    job = ClaimedJob(
        id=1,
        kind="review",
        payload={"number": "not a number"},
        attempts=4,
        max_attempts=3,
        delivery_id=None,
        lease_expires_at=datetime(2026, 1, 1, tzinfo=UTC),
    )

    await hook(BuriedJob(job, "lease expired on each of 3 attempts"))

    assert w.calls() == []


async def test_the_verification_verdicts_are_kept_with_the_review(w: World) -> None:
    w.github.set_file(w.repo, "main", ".github/backend-review.yml", "model:\n  verify: true\n")
    refuted = tool_answer({"reason": "Line 10 rejects it first.", "confirmed": False})

    def model(body: dict[str, Any]) -> Answer:
        if body["tools"][0]["name"] == VERIFY_TOOL:
            return refuted
        # Evidence the gate lets block, so that it is verified.
        sure = finding(path=ENDPOINT, lines="11", severity="major", confidence=0.9)
        return tool_answer(answer(sure) if ENDPOINT in files_in(body) else answer())

    w.llm.respond_with(model)
    pr = w.pull()

    await w.run(w.review_job(pr))

    stored = await w.ctx.store.last_review(w.repo.id, pr.number)
    assert stored is not None
    [kept] = stored.model_findings
    assert stored.verdicts == {kept.id: "verification did not confirm: Line 10 rejects it first."}


async def test_ignore_globs_too_large_to_compile_are_reported_and_the_defaults_review(
    w: World,
) -> None:
    # 2,200 ordinary globs, each fine alone: compiled together they crashed every attempt
    # (RE2's memory limit), and no check run ever completed.
    globs = "".join(f"  - 'vendor{i}/**/*.py[co]'\n" for i in range(2_200))
    w.github.set_file(w.repo, "main", ".github/backend-review.yml", f"ignore:\n{globs}")
    pr = w.pull()

    await w.run(w.review_job(pr))

    [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
    assert (check.status, check.conclusion) == ("completed", "failure")  # the Stripe key
    [summary] = _summaries(w, pr.number)
    assert ".github/backend-review.yml: ignore: at most 500 entries (this has 2200)" in summary.body
