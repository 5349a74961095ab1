"""The LLM adapter's config from the settings: for the jobs' context and the CLI's review.

Its own module so the CLI gets it without importing the GitHub and store adapters. Also where a
model the capability table lacks (`app.llm.capabilities`) is refused: the configured one at
start-up (`require_known_model`), a persona's before its review (`model_refusal`).
"""

from __future__ import annotations

from app.errors import ConfigError
from app.llm import LLMConfig
from app.llm.call_options import call_options
from app.llm.capabilities import lookup, refusal
from app.review.budget import ModelLimits
from app.settings import Settings

# The setting each provider cannot do without (`Settings.llm_missing` says why).
_REQUIRED = {"anthropic": "ANTHROPIC_API_KEY", "bedrock": "AWS_REGION", "vertex": "CLOUD_ML_REGION"}
MODEL_SETTING = "BACKEND_REVIEW_MODEL"


def llm_config(settings: Settings) -> LLMConfig:
    """The provider, its credentials and the call limits; ConfigError naming a missing setting
    (never its value) when `settings.llm_missing()` says the model cannot be called, or the
    configured model is not one the table knows."""
    missing = settings.llm_missing()
    if missing is not None:
        setting = _REQUIRED[settings.llm_provider]
        raise ConfigError(setting, missing.removeprefix(f"{setting} "))
    require_known_model(settings)
    base_url = settings.anthropic_base_url
    return LLMConfig(
        provider=settings.llm_provider,
        model=settings.model,
        max_output_tokens=settings.llm_max_output_tokens,
        timeout_seconds=settings.llm_timeout_seconds,
        max_attempts=settings.llm_max_attempts,
        thinking_budget=settings.llm_thinking_budget,
        api_key=settings.anthropic_api_key,
        base_url=str(base_url) if base_url is not None else None,
        aws_region=settings.aws_region,
        vertex_region=settings.vertex_region,
        vertex_project_id=settings.vertex_project_id,
        secrets=tuple(settings.secret_values()),
    )


def require_known_model(settings: Settings) -> None:
    """ConfigError naming BACKEND_REVIEW_MODEL when the table does not know the configured
    model on the configured provider: `serve` and `worker` stop here, before any review."""
    refused = refusal(settings.llm_provider, settings.model)
    if refused is not None:
        raise ConfigError(MODEL_SETTING, f'{refused}; see docs/llm.md, "Models"')


def model_refusal(settings: Settings, persona_model: str | None) -> str | None:
    """Why the model a review would use cannot review (one line), or None when it can.

    A persona's `model` is used on the direct API only (`model_from_config`); elsewhere the
    configured model is, and that one was checked at start-up."""
    if persona_model and settings.llm_provider == "anthropic":
        refused = refusal("anthropic", persona_model)
        if refused is not None:
            return f"the persona's {refused}"
    return refusal(settings.llm_provider, settings.model)


def model_limits(
    settings: Settings, persona_model: str | None, tokens_left_today: int | None
) -> ModelLimits:
    """The review's budgets from the settings, for the model that will answer: the ceiling of a
    cut answer's one larger retry is its output limit, and each call's output allowance counts
    the thinking budget it is sent with (neither when the table lacks the model)."""
    model = persona_model if persona_model and settings.llm_provider == "anthropic" else None
    spec = lookup(settings.llm_provider, model or settings.model)
    answer = settings.llm_max_output_tokens
    thinking = 0
    if spec is not None:
        sent = call_options(
            spec,
            tool_name="",
            max_output_tokens=answer,
            thinking_budget=settings.llm_thinking_budget,
        )
        thinking = max(sent.max_tokens - answer, 0)
    return ModelLimits(
        call_input_tokens=settings.llm_call_input_tokens,
        review_tokens=settings.llm_review_tokens,
        max_output_tokens=answer,
        concurrency=settings.llm_concurrency,
        deadline_seconds=settings.llm_deadline_seconds,
        tokens_left_today=tokens_left_today,
        output_ceiling=spec.max_output_tokens if spec is not None else None,
        thinking_tokens=thinking,
    )
