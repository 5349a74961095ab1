"""What a review's model calls cost, into the database and `/metrics`, and what is left today.

Used by the worker's review job: `tokens_left_today` before the review (it becomes
`ModelLimits.tokens_left_today`), `record_review_usage` after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.jobs.model_result import ReviewResult
from app.llm import Usage
from app.llm.capabilities import lookup_any
from app.metrics import Metrics
from app.store.facade import Store
from app.store.usage import UsageRecord, start_of_utc_day


@dataclass(frozen=True, slots=True)
class ReviewSubject:
    """Which pull request a review was of, for the usage row."""

    installation_id: int
    repository: str
    number: int
    head_sha: str
    job_id: int | None = None


async def tokens_left_today(
    store: Store, installation_id: int, *, daily_cap: int, now: datetime
) -> int:
    """The installation's daily cap minus what its reviews used since midnight UTC (may be < 0)."""
    used = await store.tokens_used_since(installation_id, start_of_utc_day(now))
    return daily_cap - used


async def record_review_usage(
    store: Store,
    metrics: Metrics,
    result: ReviewResult,
    subject: ReviewSubject,
    *,
    configured_model: str,
    now: datetime,
    prices: tuple[float, float, float, float] | None = None,
) -> int:
    """Store the review's usage row and count it in the metrics; returns the row id.

    The estimated cost goes to the cost counter at the answering model's list prices
    (`model_prices`), or at `prices` (dollars per million input, output, cache-read,
    cache-write tokens: BACKEND_REVIEW_LLM_PRICE_PER_MTOK) when given."""
    model = result.model or configured_model
    row_id = await record_usage(
        store,
        metrics,
        UsageRecord(
            installation_id=subject.installation_id,
            repository=subject.repository,
            number=subject.number,
            head_sha=subject.head_sha,
            job_id=subject.job_id,
            model=model,
            calls=result.calls,
            input_tokens=result.usage.input_tokens,
            output_tokens=result.usage.output_tokens,
            cache_read_tokens=result.usage.cache_read_tokens,
            cache_write_tokens=result.usage.cache_write_tokens,
            outcome=result.outcome,
            at=now,
        ),
        prices=prices,
    )
    for outcome in result.part_outcomes:
        metrics.count_llm_call(outcome)
    metrics.count_llm_review(result.outcome)
    return row_id


async def record_usage(
    store: Store,
    metrics: Metrics,
    record: UsageRecord,
    *,
    prices: tuple[float, float, float, float] | None = None,
) -> int:
    """Store one usage row (a review's, an `explain`'s) and count its tokens and estimated
    cost (at `prices`, else the model's list prices); returns the row id."""
    row_id = await store.record_usage(record)
    usage = Usage(
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        cache_read_tokens=record.cache_read_tokens,
        cache_write_tokens=record.cache_write_tokens,
    )
    # Counted after the row is stored: a failed insert is retried with the job, and counting
    # first would count the same tokens twice.
    metrics.count_llm_tokens(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
    )
    at = prices or model_prices(record.model)
    if at is not None:
        metrics.count_llm_cost(estimated_cost(usage, at))
    return row_id


def model_prices(model: str) -> tuple[float, float, float, float] | None:
    """The list prices of `model` (any provider's id) per million tokens, or None for a model
    the capability table lacks (its cost is not estimated)."""
    spec = lookup_any(model)
    return spec.prices.per_mtok() if spec is not None else None


def estimated_cost(usage: Usage, prices: tuple[float, float, float, float]) -> float:
    """Dollars for `usage` at `prices` per million tokens of each kind."""
    amounts = (
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
    )
    return sum(n * price for n, price in zip(amounts, prices, strict=True)) / 1_000_000
