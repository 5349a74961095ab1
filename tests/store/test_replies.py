"""The refusal-reply throttle: once per user per pull request per hour, on both dialects."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.replies import may_reply
from app.store.tables import command_replies

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


async def test_once_per_user_per_pull_request_per_hour(engine: AsyncEngine) -> None:
    assert await may_reply(engine, 1, 7, "mallory", now=T0)
    assert not await may_reply(engine, 1, 7, "mallory", now=T0 + timedelta(minutes=59))
    assert not await may_reply(engine, 1, 7, "MALLORY", now=T0 + timedelta(minutes=1))
    # Someone else, another PR, another repository: each has its own allowance.
    assert await may_reply(engine, 1, 7, "trent", now=T0)
    assert await may_reply(engine, 1, 8, "mallory", now=T0)
    assert await may_reply(engine, 2, 7, "mallory", now=T0)
    # An hour after the last reply, one more.
    assert await may_reply(engine, 1, 7, "mallory", now=T0 + timedelta(hours=1))
    assert not await may_reply(engine, 1, 7, "mallory", now=T0 + timedelta(minutes=61))


async def test_many_at_once_get_one_reply(engine: AsyncEngine) -> None:
    answers = await asyncio.gather(*(may_reply(engine, 1, 7, "mallory", now=T0) for _ in range(8)))
    assert sorted(answers) == [False] * 7 + [True]


async def test_old_rows_are_pruned(engine: AsyncEngine) -> None:
    for n in range(5):
        await may_reply(engine, 1, n, "mallory", now=T0)
    await may_reply(engine, 1, 99, "trent", now=T0 + timedelta(days=2))
    async with engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(command_replies))).scalar()
    assert count == 1


async def test_a_naive_time_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await may_reply(engine, 1, 7, "mallory", now=datetime(2026, 12, 6, 8, 0))
