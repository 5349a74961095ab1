"""What one review adds to /metrics: duration, findings, cost, GitHub calls and rate limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.usage import estimated_cost
from app.llm import Usage
from tests.fakes.anthropic_api import tool_answer
from tests.jobs import world
from tests.jobs.model_calls import answer, finding


def sample(metrics: object, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)  # type: ignore[attr-defined]
    return 0.0 if value is None else float(value)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_a_published_review_is_counted(engine: AsyncEngine, tmp_path: Path) -> None:
    async with world(engine, tmp_path) as w:
        w.llm.respond_with(lambda _: tool_answer(answer(finding(rule="general", lines="11"))))
        pr = w.pull()

        await w.run(w.review_job(pr))

        m = w.ctx.metrics
        assert sample(m, "backend_review_review_seconds_count", conclusion="failure") == 1
        assert sample(m, "backend_review_findings_total", severity="critical", source="rule") == 1
        assert sample(m, "backend_review_findings_total", severity="major", source="llm") == 1
        assert sample(m, "backend_review_findings_by_rule_total", rule="hardcoded-secret") == 1
        assert sample(m, "backend_review_findings_by_rule_total", rule="model") == 1
        # 1,520 input and 318 output tokens at the default Sonnet prices.
        assert sample(m, "backend_review_llm_cost_usd_total") == pytest.approx(
            (1520 * 3 + 318 * 15) / 1e6
        )
        # The PR, the diff, the conversation (the config is a 404 here).
        assert sample(m, "backend_review_github_calls_total", method="GET", status="2xx") >= 3
        assert sample(m, "backend_review_github_calls_total", method="POST", status="2xx") >= 3
        remaining = sample(m, "backend_review_github_rate_limit_remaining", resource="core")
        assert 0 < remaining < 5000


def test_cost_is_each_kind_at_its_price() -> None:
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_read_tokens=2_000_000,
        cache_write_tokens=10_000,
    )
    assert estimated_cost(usage, (3, 15, 0.3, 3.75)) == pytest.approx(3 + 1.5 + 0.6 + 0.0375)
