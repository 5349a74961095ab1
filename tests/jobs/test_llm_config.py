"""The LLM adapter's config built from the settings, and the jobs' model factory built on it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import ConfigError
from app.github.client import GitHubApp
from app.jobs.context import build_context
from app.jobs.llm_config import llm_config, model_limits
from app.metrics import Metrics
from app.runtime import github_credentials
from app.settings import Settings
from app.store.facade import Store
from app.store.jobs import JobQueue
from tests.fakes.github_server import FakeGitHub
from tests.jobs import settings_for
from tests.llm import MODEL

KEY = "sk-ant-api03-never-in-an-error-0042"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Settings built from arguments only: no provider variables, no .env file."""
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "AWS_", "BACKEND_REVIEW_", "CLOUD_ML_", "LINEAR_")):
            monkeypatch.delenv(name)

    def build(**values: Any) -> Settings:
        return Settings(_env_file=None, **{"model": MODEL, **values})

    return build


def test_the_config_carries_the_provider_its_credentials_and_the_limits(settings: Any) -> None:
    config = llm_config(
        settings(
            anthropic_api_key=KEY,
            anthropic_base_url="http://gateway.test",
            llm_max_output_tokens=3000,
            llm_timeout_seconds=45,
            llm_max_attempts=2,
            linear_api_key="lin_api_secret",
        )
    )

    assert config.provider == "anthropic"
    assert config.api_key is not None
    assert config.api_key.get_secret_value() == KEY
    assert config.base_url == "http://gateway.test/"
    assert (config.model, config.max_output_tokens) == (MODEL, 3000)
    assert (config.timeout_seconds, config.max_attempts) == (45.0, 2)
    # Every configured secret, not the model's key alone: a gateway may echo any of them.
    assert {KEY, "lin_api_secret"} <= set(config.secrets)


def test_bedrock_and_vertex_carry_their_regions(settings: Any) -> None:
    bedrock = llm_config(
        settings(
            llm_provider="bedrock", aws_region="eu-west-1", model="global.anthropic.claude-opus-5"
        )
    )
    vertex = llm_config(
        settings(
            llm_provider="vertex",
            vertex_region="us-east5",
            vertex_project_id="acme",
            model="claude-haiku-4-5@20251001",
        )
    )

    assert (bedrock.provider, bedrock.aws_region, bedrock.api_key) == ("bedrock", "eu-west-1", None)
    assert (vertex.vertex_region, vertex.vertex_project_id) == ("us-east5", "acme")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "ANTHROPIC_API_KEY: is not set"),
        ({"anthropic_api_key": ""}, "ANTHROPIC_API_KEY: is not set"),
        (
            {"llm_provider": "bedrock", "anthropic_api_key": KEY},
            "AWS_REGION: is not set (BACKEND_REVIEW_LLM_PROVIDER=bedrock)",
        ),
        (
            {"llm_provider": "vertex", "vertex_project_id": "acme", "anthropic_api_key": KEY},
            "CLOUD_ML_REGION: is not set (BACKEND_REVIEW_LLM_PROVIDER=vertex)",
        ),
    ],
)
def test_a_missing_setting_is_named_never_a_value(
    settings: Any, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        llm_config(settings(**values))

    assert str(caught.value) == message
    assert caught.value.setting == message.split(":")[0]
    assert KEY not in str(caught.value)


async def test_the_jobs_model_factory_follows_the_settings(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    github = FakeGitHub()

    async def models_of(**changes: Any) -> tuple[str | None, str | None]:
        settings = settings_for(github, tmp_path, cpu_processes=0, **changes)
        app = GitHubApp(github_credentials(settings), async_transport=github.transport())
        queue = JobQueue(engine, worker_id="test", max_attempts=3)
        ctx = build_context(settings, Store(engine), Metrics(), queue, github=app)
        try:
            persona, default = ctx.models("claude-opus-4-6"), ctx.models(None)
            names = tuple(m.model if m is not None else None for m in (persona, default))
            for model in (persona, default):
                if model is not None:
                    await model.aclose()
            return names
        finally:
            await ctx.aclose()

    assert await models_of() == ("claude-opus-4-6", MODEL)
    assert await models_of(anthropic_api_key="") == (None, None)


def test_the_cut_answer_retry_is_capped_by_the_answering_models_output_limit(
    settings: Any,
) -> None:
    configured = settings(model="claude-sonnet-4-6", llm_max_output_tokens=4096)
    assert model_limits(configured, None, 100).output_ceiling == 64_000
    assert model_limits(configured, None, 100).tokens_left_today == 100
    # On the direct API a persona's model answers, so its limit counts.
    assert model_limits(configured, "claude-opus-4-7", None).output_ceiling == 128_000
    unknown = model_limits(configured, "claude-foo", None)
    assert unknown.output_ceiling is None


def test_each_calls_output_allowance_counts_the_thinking_budget_it_is_sent_with(
    settings: Any,
) -> None:
    thinking = settings(model="claude-sonnet-4-6", llm_max_output_tokens=4096)
    limits = model_limits(thinking, None, None)
    assert limits.thinking_tokens == thinking.llm_thinking_budget > 0
    assert limits.call_output_tokens == 4096 + thinking.llm_thinking_budget
    forced = settings(model="claude-sonnet-4-6", llm_max_output_tokens=4096, llm_thinking_budget=0)
    assert model_limits(forced, None, None).call_output_tokens == 4096
    assert model_limits(thinking, "claude-foo", None).thinking_tokens == 0
