"""The delivery store's replay guard: a signed body stored under one delivery id is refused
under another, in one batch or across writers (a restart), on both dialects."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.db import is_postgres, run_transaction
from app.store.deliveries import DeliveryWriter, NewDelivery, Outcome, store_deliveries
from app.store.jobs import NewJob
from app.store.tables import deliveries, jobs

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def delivery(delivery_id: str, body: bytes | None) -> NewDelivery:
    return NewDelivery(
        id=delivery_id,
        event="check_run",
        action="requested_action",
        installation_id=42,
        repository="acme/payments",
        jobs=(NewJob("review", {"number": 7}),),
        body_sha256=None if body is None else hashlib.sha256(body).digest(),
    )


async def submit_all(engine: AsyncEngine, batch: list[NewDelivery]) -> list[Outcome]:
    """One writer's life: what a `serve` process stores between its start and its stop."""
    writer = DeliveryWriter(engine, max_attempts=3, clock=lambda: NOW)
    writer.start()
    try:
        return [await writer.submit(d) for d in batch]
    finally:
        await writer.stop()


async def in_one_batch(engine: AsyncEngine, batch: list[NewDelivery]) -> list[Outcome]:
    postgres = is_postgres(engine)

    def work(conn: Connection) -> list[Outcome]:
        return store_deliveries(conn, batch, now=NOW, max_attempts=3, postgres=postgres)

    return await run_transaction(engine, work)


async def stored(engine: AsyncEngine) -> tuple[list[str], int]:
    async with engine.connect() as conn:
        ids = list(
            (await conn.execute(select(deliveries.c.id).order_by(deliveries.c.id))).scalars()
        )
        n_jobs = (await conn.execute(select(func.count()).select_from(jobs))).scalar_one()
    return ids, n_jobs


async def test_a_body_stored_before_is_a_replay_under_a_new_id_after_a_restart(
    engine: AsyncEngine,
) -> None:
    assert await submit_all(engine, [delivery("d-1", b'{"a":1}')]) == [Outcome.QUEUED]
    # Another writer on the same database: `serve` restarted.
    again = await submit_all(
        engine,
        [
            delivery("evil-1", b'{"a":1}'),
            delivery("d-1", b'{"a":1}'),  # GitHub's redelivery keeps the id
            delivery("d-2", b'{"a":2}'),
        ],
    )
    assert again == [Outcome.REPLAYED, Outcome.DUPLICATE, Outcome.QUEUED]
    assert await stored(engine) == (["d-1", "d-2"], 2)


async def test_in_one_batch_the_first_of_a_body_is_stored_and_the_others_are_replays(
    engine: AsyncEngine,
) -> None:
    batch = [
        delivery("d-1", b"{}"),
        delivery("evil-1", b"{}"),
        delivery("d-1", b"{}"),
        delivery("evil-2", b"{}"),
        delivery("d-2", b"[]"),
    ]
    assert await in_one_batch(engine, batch) == [
        Outcome.QUEUED,
        Outcome.REPLAYED,
        Outcome.DUPLICATE,
        Outcome.REPLAYED,
        Outcome.QUEUED,
    ]
    assert await stored(engine) == (["d-1", "d-2"], 2)


async def test_deliveries_without_a_body_hash_are_never_replays(engine: AsyncEngine) -> None:
    """Rows stored before migration 0007 have none: they match nothing, nor each other."""
    batch = [delivery("d-1", None), delivery("d-2", None)]
    assert await submit_all(engine, batch) == [Outcome.QUEUED, Outcome.QUEUED]
    assert await submit_all(engine, [delivery("d-3", None)]) == [Outcome.QUEUED]
    assert await stored(engine) == (["d-1", "d-2", "d-3"], 3)
