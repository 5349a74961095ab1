"""Optional tracing: off without an endpoint, spans for a review when on."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from app.tracing import setup_tracing, span, stop_tracing
from tests.fakes.anthropic_api import tool_answer
from tests.jobs import world
from tests.jobs.model_calls import answer


@pytest.fixture(autouse=True)
def tracing_off_after() -> Iterator[None]:
    yield
    stop_tracing()


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_off_without_an_endpoint_and_span_is_a_no_op() -> None:
    assert setup_tracing(settings()) is False
    with span("anything", n=1):
        pass


def test_an_endpoint_without_the_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)

    assert setup_tracing(settings(otel_endpoint="http://127.0.0.1:4318")) is False
    assert "pip install 'backend-review[otel]'" in caplog.text


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_a_review_reports_its_steps(engine: AsyncEngine, tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    assert setup_tracing(settings(), exporter=exporter) is True
    async with world(engine, tmp_path) as w:
        w.llm.respond_with(lambda _: tool_answer(answer()))
        await w.run(w.review_job(w.pull()))

    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ["review.core_and_model", "review.publish"]
    [model_step] = [s for s in exporter.get_finished_spans() if s.name.endswith("model")]
    assert model_step.attributes is not None
    assert model_step.attributes["files"] == 2
    assert model_step.attributes["full"] is True
