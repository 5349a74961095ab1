"""The LLM adapter's config from the settings: for the jobs' context and the CLI's review.

Its own module so the CLI gets it without importing the GitHub and store adapters.
"""

from __future__ import annotations

from app.errors import ConfigError
from app.llm import LLMConfig
from app.settings import Settings

# The setting each provider cannot do without (`Settings.llm_missing` says why).
_REQUIRED = {"anthropic": "ANTHROPIC_API_KEY", "bedrock": "AWS_REGION", "vertex": "CLOUD_ML_REGION"}


def llm_config(settings: Settings) -> LLMConfig:
    """The provider, its credentials and the call limits; ConfigError naming a missing setting
    (never its value) when `settings.llm_missing()` says the model cannot be called."""
    missing = settings.llm_missing()
    if missing is not None:
        setting = _REQUIRED[settings.llm_provider]
        raise ConfigError(setting, missing.removeprefix(f"{setting} "))
    base_url = settings.anthropic_base_url
    return LLMConfig(
        provider=settings.llm_provider,
        model=settings.model,
        max_output_tokens=settings.llm_max_output_tokens,
        timeout_seconds=settings.llm_timeout_seconds,
        max_attempts=settings.llm_max_attempts,
        api_key=settings.anthropic_api_key,
        base_url=str(base_url) if base_url is not None else None,
        aws_region=settings.aws_region,
        vertex_region=settings.vertex_region,
        vertex_project_id=settings.vertex_project_id,
        secrets=tuple(settings.secret_values()),
    )
