"""The last review per PR, dismissals and the "newer review queued" check, on real SQLite and
PostgreSQL (each test runs on both); migration 0003 down and up again."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.review.dismissal import DismissalRecord
from app.review.findings import Finding, Severity
from app.store import migrate
from app.store.jobs import JobQueue, NewJob, newer_review_queued
from app.store.reviews import (
    Dismissal,
    StoredReview,
    add_dismissal,
    dismissal_records,
    dismissals,
    last_review,
    remove_dismissal,
    save_review,
)
from app.store.tables import dismissals as dismissals_table
from app.store.tables import metadata, pull_reviews
from app.store.usage import UsageRecord, record_usage, tokens_used_since
from tests.conftest import FakeClock

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
BIG = 5_000_000_000  # past 32 bits: ids are bigints


def finding(**changes: Any) -> Finding:
    base = {
        "id": "br-0123456789ab",
        "rule": "idempotency",
        "source": "llm",
        "type": "evidence",
        "category": "api",
        "severity": "major",
        "title": "POST /orders retries create duplicate orders",
        "where": {"path": "app/orders/routes.py", "lines": "88-129", "side": "RIGHT"},
        "evidence": "The handler inserts\nwithout an idempotency key — «ünïcode» too.",
        "recommendation": "Accept an Idempotency-Key header and store it with the order.",
        "suggestion": "key = request.headers['Idempotency-Key']\nif seen(key):\n    return prior",
        "confidence": 0.75,
    }
    return Finding.model_validate(base | changes)


def review(**changes: Any) -> StoredReview:
    base = StoredReview(
        repository_id=BIG,
        number=7,
        repository="octo/api",
        head_sha="a" * 40,
        base_sha="b" * 40,
        model_findings=(
            finding(),
            finding(
                id="br-ba9876543210",
                type="question",
                category="migrations",
                severity="info",
                title="Is the backfill batched?",
                where={"path": "migrations/0042.py", "side": "LEFT", "lines": "3"},
                suggestion=None,
                confidence=None,
            ),
        ),
        conclusion="failure",
        check_run_id=BIG + 1,
        summary_comment_id=BIG + 2,
        reviewed_at=NOON,
        severities={"br-0123456789ab": Severity.CRITICAL, "br-ba9876543210": Severity.INFO},
    )
    return dataclasses.replace(base, **changes)


def dismissal(**changes: Any) -> Dismissal:
    base = Dismissal(
        repository_id=BIG,
        number=7,
        finding_id="br-0123456789ab",
        by_login="octocat",
        reason="retries are deduplicated upstream",
        at=NOON,
    )
    return dataclasses.replace(base, **changes)


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


# ----- the last review -----


async def test_review_round_trips_every_field(engine: AsyncEngine) -> None:
    est = timezone(timedelta(hours=-5))
    saved = review(reviewed_at=NOON.astimezone(est))
    await save_review(engine, saved)
    loaded = await last_review(engine, BIG, 7)
    assert loaded == saved
    assert loaded is not None
    assert loaded.reviewed_at.tzinfo is UTC
    first, second = loaded.model_findings
    assert (first.where.start, first.where.end) == (88, 129)
    assert first.suggestion is not None
    assert first.suggestion.count("\n") == 2
    assert first.confidence == 0.75
    assert second.where.side == "LEFT"
    assert (second.suggestion, second.confidence) == (None, None)


async def test_second_save_replaces_the_first(engine: AsyncEngine) -> None:
    await save_review(engine, review())
    other_pr = review(number=8, head_sha="c" * 40)
    await save_review(engine, other_pr)
    newer = review(
        head_sha="d" * 40,
        base_sha="e" * 40,
        model_findings=(),
        conclusion="success",
        check_run_id=None,
        summary_comment_id=None,
        reviewed_at=NOON + timedelta(minutes=5),
    )
    await save_review(engine, newer)
    assert await last_review(engine, BIG, 7) == newer
    assert await last_review(engine, BIG, 8) == other_pr
    assert await count(engine, pull_reviews) == 2


async def test_no_review_is_none(engine: AsyncEngine) -> None:
    await save_review(engine, review())
    assert await last_review(engine, BIG, 6) is None
    assert await last_review(engine, BIG + 1, 7) is None


@pytest.mark.parametrize(
    "stored",
    [
        '[{"path": "a.py", "line": 3, "message": "an older format"}]',
        '{"findings": []}',
        "not json at all",
        # One finding of the list is unreadable: none is kept, not a partial list.
        json.dumps([finding().model_dump(mode="json"), {"rule": "x"}]),
    ],
    ids=["older-format", "not-a-list", "not-json", "one-bad-of-two"],
)
async def test_unreadable_findings_load_as_none(engine: AsyncEngine, stored: str) -> None:
    row = {
        "repository_id": BIG,
        "number": 7,
        "repository": "octo/api",
        "head_sha": "a" * 40,
        "base_sha": "b" * 40,
        "model_findings": stored,
        "conclusion": "neutral",
        "check_run_id": 11,
        "summary_comment_id": None,
        "reviewed_at": NOON,
    }
    async with engine.begin() as conn:
        await conn.execute(insert(pull_reviews), row)
    loaded = await last_review(engine, BIG, 7)
    assert loaded is not None
    assert loaded.model_findings == ()
    assert (loaded.head_sha, loaded.conclusion, loaded.check_run_id) == ("a" * 40, "neutral", 11)


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        review(reviewed_at=datetime(2026, 12, 2, 12, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        dismissal(at=datetime(2026, 12, 2, 12, 0))


# ----- dismissals -----


async def test_dismissals_add_update_order_and_remove(engine: AsyncEngine) -> None:
    assert await dismissals(engine, BIG, 7) == {}
    # Added out of time order: the list follows the time of dismissal.
    assert await add_dismissal(
        engine, dismissal(finding_id="br-later", at=NOON + timedelta(hours=1))
    )
    assert await add_dismissal(engine, dismissal())
    assert await add_dismissal(
        engine,
        dismissal(
            finding_id="br-blank", by_login="hubot", reason="  ", at=NOON + timedelta(hours=2)
        ),
    )
    assert list((await dismissals(engine, BIG, 7)).items()) == [
        ("br-0123456789ab", "by @octocat: retries are deduplicated upstream"),
        ("br-later", "by @octocat: retries are deduplicated upstream"),
        ("br-blank", "by @hubot"),
    ]

    # Dismissed again: who and why change, the place in the list does not.
    again = dismissal(
        by_login="monalisa", reason="covered by the gateway", at=NOON + timedelta(hours=3)
    )
    assert not await add_dismissal(engine, again)
    listed = await dismissals(engine, BIG, 7)
    assert list(listed) == ["br-0123456789ab", "br-later", "br-blank"]
    assert listed["br-0123456789ab"] == "by @monalisa: covered by the gateway"
    assert await count(engine, dismissals_table) == 3

    assert await remove_dismissal(engine, BIG, 7, "br-later")
    assert not await remove_dismissal(engine, BIG, 7, "br-later")
    assert not await remove_dismissal(engine, BIG, 7, "br-never")
    assert list(await dismissals(engine, BIG, 7)) == ["br-0123456789ab", "br-blank"]
    # Removed, then dismissed again: new again.
    assert await add_dismissal(
        engine, dismissal(finding_id="br-later", at=NOON + timedelta(hours=4))
    )
    assert list(await dismissals(engine, BIG, 7)) == ["br-0123456789ab", "br-blank", "br-later"]


async def test_dismissals_are_per_pull_request(engine: AsyncEngine) -> None:
    assert await add_dismissal(engine, dismissal())
    assert await add_dismissal(engine, dismissal(number=8, by_login="hubot", reason="other PR"))
    assert await add_dismissal(engine, dismissal(repository_id=BIG + 1, reason="other repo"))
    assert await dismissals(engine, BIG, 7) == {
        "br-0123456789ab": "by @octocat: retries are deduplicated upstream"
    }
    assert await dismissals(engine, BIG, 8) == {"br-0123456789ab": "by @hubot: other PR"}
    assert await remove_dismissal(engine, BIG, 8, "br-0123456789ab")
    assert await dismissals(engine, BIG, 8) == {}
    assert list(await dismissals(engine, BIG, 7)) == ["br-0123456789ab"]
    assert list(await dismissals(engine, BIG + 1, 7)) == ["br-0123456789ab"]


async def test_concurrent_saves_and_dismissals_of_one_pr(engine: AsyncEngine) -> None:
    # On PostgreSQL these run on separate pooled connections: the first save and the first
    # dismissal race for the same key, and neither may fail on it.
    saves = [review(head_sha=f"{i:040x}") for i in range(6)]
    await asyncio.gather(*(save_review(engine, r) for r in saves))
    assert await count(engine, pull_reviews) == 1
    assert await last_review(engine, BIG, 7) in saves
    added = await asyncio.gather(
        *(add_dismissal(engine, dismissal(by_login=f"user{i}")) for i in range(6))
    )
    assert sorted(added) == [False] * 5 + [True]
    assert await count(engine, dismissals_table) == 1


# ----- newer_review_queued -----


async def test_newer_review_queued(engine: AsyncEngine, clock: FakeClock) -> None:
    key, other = "review:1:7", "review:1:8"
    q = JobQueue(engine, worker_id="w1", lease_seconds=60, max_attempts=3, clock=clock)
    await q.enqueue(
        [
            NewJob("review", {"head": "a"}, coalesce_key=key),
            NewJob("review", {"head": "x"}, coalesce_key=other),
        ]
    )
    running = await q.claim()
    assert running is not None
    assert running.payload == {"head": "a"}
    # The newer job queued is another PR's.
    assert not await newer_review_queued(engine, key, than_job_id=running.id)
    assert await newer_review_queued(engine, other, than_job_id=running.id)
    elsewhere = await q.claim()
    assert elsewhere is not None
    assert await q.complete(elsewhere)

    # A newer push while the first review runs.
    await q.enqueue([NewJob("review", {"head": "b"}, coalesce_key=key)])
    assert await newer_review_queued(engine, key, than_job_id=running.id)

    # Another push supersedes "b": "c" is what counts now, and nothing is newer than "c".
    await q.enqueue([NewJob("review", {"head": "c"}, coalesce_key=key)])
    latest = await q.claim()
    assert latest is not None
    assert latest.payload == {"head": "c"}
    assert latest.id > running.id
    assert not await newer_review_queued(engine, key, than_job_id=latest.id)
    # Running counts: it will publish the newer review.
    assert await newer_review_queued(engine, key, than_job_id=running.id)
    # Failed and back in the queue for a retry: still to come.
    await q.fail(latest, "GitHub 502")
    assert await newer_review_queued(engine, key, than_job_id=running.id)
    clock.advance(11)  # past the first backoff (10 s), within the first job's lease
    retried = await q.claim()
    assert retried is not None
    assert retried.id == latest.id
    # Done: it has published, so the older review must not publish over it.
    assert await q.complete(retried)
    assert await newer_review_queued(engine, key, than_job_id=running.id)

    # Dead does not count (on another PR, whose first review is the one still running).
    await q.enqueue([NewJob("review", {"head": "d"}, coalesce_key=other)])
    doomed = await q.claim()
    assert doomed is not None
    assert await newer_review_queued(engine, other, than_job_id=elsewhere.id)
    await q.fail(doomed, "unreadable payload", permanent=True)
    assert not await newer_review_queued(engine, other, than_job_id=elsewhere.id)


# ----- migration 0003 -----


def _schema(sync: Connection) -> dict[str, Any]:
    inspector = inspect(sync)
    tables = set(inspector.get_table_names())
    found: dict[str, Any] = {"tables": tables & {"pull_reviews", "dismissals", "llm_usage"}}
    if "pull_reviews" in tables:
        found["pk"] = inspector.get_pk_constraint("pull_reviews")["constrained_columns"]
    if "dismissals" in tables:
        found["uq"] = [
            (u["name"], u["column_names"]) for u in inspector.get_unique_constraints("dismissals")
        ]
    return found


def _drift(sync: Connection) -> list[object]:
    context = MigrationContext.configure(sync, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migration_0003_down_and_up(engine: AsyncEngine) -> None:
    at_head = {
        "tables": {"pull_reviews", "dismissals", "llm_usage"},
        "pk": ["repository_id", "number"],
        "uq": [
            (
                "uq_dismissals_repository_id_number_finding_id",
                ["repository_id", "number", "finding_id"],
            )
        ],
    }
    async with engine.connect() as conn:
        assert await conn.run_sync(_schema) == at_head
    usage = UsageRecord(42, "octo/api", 7, "a" * 40, 1, "m", 1, 10, 2, 0, 0, "complete", NOON)
    await record_usage(engine, usage)

    await migrate.downgrade(engine, "0002")
    assert await migrate.current_revision(engine) == "0002"
    async with engine.connect() as conn:
        assert await conn.run_sync(_schema) == {"tables": {"llm_usage"}}
    assert await tokens_used_since(engine, 42, NOON) == 12, "0002's data must survive"

    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    async with engine.connect() as conn:
        assert await conn.run_sync(_schema) == at_head
        assert await conn.run_sync(_drift) == []
    await save_review(engine, review())
    assert await last_review(engine, BIG, 7) == review()
    assert await add_dismissal(engine, dismissal())
    # The unique constraint is in the database, not only in our upsert.
    row = {
        "repository_id": BIG,
        "number": 7,
        "finding_id": "br-0123456789ab",
        "by_login": "x",
        "reason": "",
        "created_at": NOON,
    }
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert(dismissals_table), row)


async def test_severities_are_optional_and_a_bad_value_reads_as_unknown(
    engine: AsyncEngine,
) -> None:
    await save_review(engine, review(severities=None))
    loaded = await last_review(engine, BIG, 7)
    assert loaded is not None
    assert loaded.severities is None
    async with engine.begin() as conn:
        await conn.execute(pull_reviews.update().values(severities='{"br-1": "blocker"}'))
    loaded = await last_review(engine, BIG, 7)
    assert loaded is not None
    assert loaded.severities is None


async def test_verification_verdicts_are_kept_and_a_bad_row_reads_as_none(
    engine: AsyncEngine,
) -> None:
    verdicts = {"br-0123456789ab": None, "br-ba9876543210": "verification did not confirm: l 3"}
    await save_review(engine, review(verdicts=verdicts))
    loaded = await last_review(engine, BIG, 7)
    assert loaded is not None
    assert loaded.verdicts == verdicts
    await save_review(engine, review())
    loaded = await last_review(engine, BIG, 7)
    assert loaded is not None
    assert loaded.verdicts is None  # none recorded: every finding is verified again
    for text, read in [("not json", None), ('{"br-1": 3, "br-2": null}', {"br-2": None})]:
        async with engine.begin() as conn:
            await conn.execute(pull_reviews.update().values(verdicts=text))
        loaded = await last_review(engine, BIG, 7)
        assert loaded is not None
        assert loaded.verdicts == read


async def test_threads_left_open_are_kept_and_a_bad_row_reads_as_none_left(
    engine: AsyncEngine,
) -> None:
    await save_review(engine, review(threads_open=("br-0123456789ab", "br-ba9876543210")))
    loaded = await last_review(engine, BIG, 7)
    assert loaded is not None
    assert loaded.threads_open == ("br-0123456789ab", "br-ba9876543210")
    await save_review(engine, review())
    loaded = await last_review(engine, BIG, 7)
    assert loaded is not None
    assert loaded.threads_open == ()
    for text, read in [("not json", ()), ('{"br-1": 1}', ()), ('["br-1", 2]', ("br-1",))]:
        async with engine.begin() as conn:
            await conn.execute(pull_reviews.update().values(threads_open=text))
        loaded = await last_review(engine, BIG, 7)
        assert loaded is not None
        assert loaded.threads_open == read


async def test_dismissal_records_carry_role_and_time(engine: AsyncEngine) -> None:
    await add_dismissal(engine, dismissal(by_role="maintain"))
    await add_dismissal(engine, dismissal(finding_id="br-ba9876543210", at=NOON + HOUR))
    assert await dismissal_records(engine, BIG, 7) == [
        DismissalRecord(
            "br-0123456789ab", "octocat", "maintain", "retries are deduplicated upstream", NOON
        ),
        # No role recorded (a dismissal from before roles were kept): write, as then required.
        DismissalRecord(
            "br-ba9876543210", "octocat", "write", "retries are deduplicated upstream", NOON + HOUR
        ),
    ]
    # Dismissed again by someone else: their role replaces the first one's.
    await add_dismissal(engine, dismissal(by_login="intern", by_role="write"))
    first = (await dismissal_records(engine, BIG, 7))[0]
    assert (first.by_login, first.role) == ("intern", "write")
