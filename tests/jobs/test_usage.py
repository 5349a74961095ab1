"""A review's usage, from a real run against the fake model API into a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.model_calls import run_review
from app.jobs.usage import ReviewSubject, model_prices, record_review_usage, tokens_left_today
from app.metrics import Metrics
from app.store.facade import Store
from app.store.tables import llm_usage
from tests.fakes.anthropic_api import FakeAnthropic, overloaded, rate_limited, tool_answer
from tests.jobs.model_calls import answer, finding, limits, request, review
from tests.llm import Timeline

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SUBJECT = ReviewSubject(
    installation_id=7, repository="octo/api", number=12, head_sha="c" * 40, job_id=99
)


def _sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    assert value is not None, (name, labels)
    return value


async def test_a_review_is_recorded_and_counted(engine: AsyncEngine) -> None:
    fake = FakeAnthropic()
    usage = {"cache_read_input_tokens": 900, "cache_creation_input_tokens": 1100}
    fake.enqueue(rate_limited(retry_after=1), tool_answer(answer(finding()), usage=usage))
    result = await review(fake, timeline=Timeline())
    metrics = Metrics()

    row_id = await record_review_usage(
        Store(engine), metrics, result, SUBJECT, configured_model="claude-sonnet-4-6", now=NOON
    )

    async with engine.connect() as conn:
        row = (await conn.execute(select(llm_usage))).mappings().one()
    assert row["id"] == row_id
    assert (row["installation_id"], row["repository"], row["number"], row["job_id"]) == (
        7,
        "octo/api",
        12,
        99,
    )
    assert (row["calls"], row["outcome"], row["model"]) == (2, "complete", "claude-sonnet-4-6")
    assert (row["input_tokens"], row["output_tokens"]) == (1520, 318)
    assert (row["cache_read_tokens"], row["cache_write_tokens"]) == (900, 1100)
    assert _sample(metrics, "backend_review_llm_tokens_total", kind="cache_read") == 900
    assert _sample(metrics, "backend_review_llm_tokens_total", kind="input") == 1520
    assert _sample(metrics, "backend_review_llm_calls_total", outcome="retried") == 1
    assert _sample(metrics, "backend_review_llm_calls_total", outcome="ok") == 0
    assert _sample(metrics, "backend_review_llm_reviews_total", outcome="complete") == 1


async def test_a_review_without_the_model_is_recorded_with_its_reason(
    engine: AsyncEngine,
) -> None:
    fake = FakeAnthropic()
    fake.respond_with(lambda _: overloaded())
    down = await review(fake, timeline=Timeline())
    none = await run_review(request(), None, limits(), rules_only_reason="no key")
    metrics = Metrics()

    for result in (down, none):
        await record_review_usage(
            Store(engine), metrics, result, SUBJECT, configured_model="claude-sonnet-4-6", now=NOON
        )

    async with engine.connect() as conn:
        rows = (await conn.execute(select(llm_usage.c.outcome, llm_usage.c.calls))).all()
    assert sorted(rows) == [("rules-only", 0), ("unavailable", 3)]
    assert _sample(metrics, "backend_review_llm_calls_total", outcome="unavailable") == 1
    assert _sample(metrics, "backend_review_llm_reviews_total", outcome="rules-only") == 1


async def test_the_daily_cap_counts_today_only_and_can_go_below_zero(engine: AsyncEngine) -> None:
    fake = FakeAnthropic()
    fake.respond_with(lambda _: tool_answer(answer()))
    result = await review(fake, timeline=Timeline())
    spent = result.usage.total
    metrics = Metrics()
    store = Store(engine)
    yesterday = NOON - timedelta(days=1)
    for at in (yesterday, NOON, NOON):
        await record_review_usage(store, metrics, result, SUBJECT, configured_model="m", now=at)

    left = await tokens_left_today(store, 7, daily_cap=3_000, now=NOON + timedelta(hours=1))
    other = await tokens_left_today(store, 8, daily_cap=3_000, now=NOON)

    assert left == 3_000 - 2 * spent
    assert left < 0
    assert other == 3_000


USAGE = {
    "input_tokens": 1_000_000,
    "output_tokens": 100_000,
    "cache_read_input_tokens": 2_000_000,
    "cache_creation_input_tokens": 400_000,
}


async def _cost(
    engine: AsyncEngine, model: str, prices: tuple[float, float, float, float] | None = None
) -> float | None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(answer(), usage=USAGE))
    result = await review(fake, model_options={"model": model})
    assert result.model == model
    metrics = Metrics()
    await record_review_usage(
        Store(engine), metrics, result, SUBJECT, configured_model="x", now=NOON, prices=prices
    )
    return metrics.registry.get_sample_value("backend_review_llm_cost_usd_total")


async def test_the_cost_is_at_the_answering_models_own_prices(engine: AsyncEngine) -> None:
    # 1M input, 0.1M output, 2M cache reads, 0.4M cache writes, at each model's list prices.
    assert await _cost(engine, "claude-sonnet-4-6") == pytest.approx(3 + 1.5 + 0.6 + 1.5)
    assert await _cost(engine, "claude-opus-4-6") == pytest.approx(5 + 2.5 + 1.0 + 2.5)
    assert await _cost(engine, "claude-haiku-4-5") == pytest.approx(1 + 0.5 + 0.2 + 0.5)
    assert await _cost(engine, "claude-opus-5-5") == pytest.approx(4 + 2.0 + 0.4 + 2.0)


async def test_the_price_setting_overrides_the_list_prices(engine: AsyncEngine) -> None:
    prices = (1.0, 2.0, 0.5, 1.0)
    assert await _cost(engine, "claude-opus-4-6", prices=prices) == pytest.approx(1 + 0.2 + 1 + 0.4)


async def test_a_model_the_table_lacks_adds_no_cost(engine: AsyncEngine) -> None:
    result = await run_review(request(), None, limits(), rules_only_reason="no key")
    metrics = Metrics()

    await record_review_usage(
        Store(engine), metrics, result, SUBJECT, configured_model="claude-foo", now=NOON
    )

    assert metrics.registry.get_sample_value("backend_review_llm_cost_usd_total") == 0


def test_model_prices_know_each_providers_ids() -> None:
    assert model_prices("us.anthropic.claude-haiku-4-5-20251001-v1:0") == (1.0, 5.0, 0.1, 1.25)
    assert model_prices("claude-opus-4-1@20250805") == (15.0, 75.0, 1.5, 18.75)
    assert model_prices("claude-foo") is None
