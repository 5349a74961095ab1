"""Building the SDK client and the review model from the settings, for each provider.

Every client is made with `max_retries=0` (the adapter retries, with caps the SDK lacks) and
the configured timeout. A provider whose optional packages are missing is a ConfigError at
start-up, not an ImportError in the middle of a review.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from anthropic import (
    AsyncAnthropic,
    AsyncAnthropicBedrock,
    AsyncAnthropicVertex,
    DefaultAsyncHttpxClient,
    not_given,
)

from app.errors import ConfigError
from app.llm.anthropic_model import AnthropicModel, Client
from app.settings import Settings

_PROVIDER_SETTING = "BACKEND_REVIEW_LLM_PROVIDER"
_REQUIRED = {"anthropic": "ANTHROPIC_API_KEY", "bedrock": "AWS_REGION", "vertex": "CLOUD_ML_REGION"}
# With this variable set, the Bedrock client sends a bearer token and needs no boto3 signing.
_BEDROCK_BEARER_ENV = "AWS_BEARER_TOKEN_BEDROCK"


def make_client(settings: Settings, *, http_client: httpx2.AsyncClient | None = None) -> Client:
    """The SDK client for `settings.llm_provider`; raise ConfigError naming what is missing."""
    missing = settings.llm_missing()
    if missing is not None:
        setting = _REQUIRED[settings.llm_provider]
        raise ConfigError(setting, missing.removeprefix(f"{setting} "))
    timeout = settings.llm_timeout_seconds
    if settings.llm_provider == "bedrock":
        if not os.environ.get(_BEDROCK_BEARER_ENV) and not _installed("boto3", "botocore"):
            raise ConfigError(
                _PROVIDER_SETTING, "bedrock needs the AWS extra: pip install 'anthropic[bedrock]'"
            )
        return AsyncAnthropicBedrock(
            aws_region=settings.aws_region,
            max_retries=0,
            timeout=timeout,
            http_client=http_client,
        )
    if settings.llm_provider == "vertex":
        # Without an access token the client loads Google credentials at request time.
        if not _installed("google.auth"):
            raise ConfigError(
                _PROVIDER_SETTING,
                "vertex needs the Google extra: pip install 'anthropic[vertex]'",
            )
        return AsyncAnthropicVertex(
            region=settings.vertex_region or not_given,
            project_id=settings.vertex_project_id or not_given,
            max_retries=0,
            timeout=timeout,
            http_client=http_client,
        )
    # llm_missing() above has refused a missing or empty key.
    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else ""
    base_url = settings.anthropic_base_url
    return AsyncAnthropic(
        # Explicit, so the SDK never falls back to profiles on disk (GITHUB-FACTS).
        api_key=key,
        base_url=str(base_url) if base_url is not None else None,
        max_retries=0,
        timeout=timeout,
        http_client=http_client,
    )


def model_from_settings(
    settings: Settings,
    *,
    http_client: httpx2.AsyncClient | None = None,
    persona_model: str | None = None,
) -> AnthropicModel | None:
    """The review model, or None when the settings name none (the review runs on rules only).

    `persona_model` (a persona's `model`) wins over `BACKEND_REVIEW_MODEL` on the direct API
    only: Bedrock and Vertex name models their own way, so there the setting stays.
    """
    if settings.llm_missing() is not None:
        return None
    client = make_client(settings, http_client=http_client)
    secrets = settings.secret_values()
    if isinstance(client, AsyncAnthropicBedrock) and client.api_key:
        secrets.append(client.api_key)
    return AnthropicModel(
        client,
        model=persona_model
        if persona_model and settings.llm_provider == "anthropic"
        else settings.model,
        max_output_tokens=settings.llm_max_output_tokens,
        timeout_seconds=settings.llm_timeout_seconds,
        max_attempts=settings.llm_max_attempts,
        secrets=secrets,
    )


@asynccontextmanager
async def model_of_one_run(
    settings: Settings, *, persona_model: str | None = None
) -> AsyncIterator[AnthropicModel | None]:
    """`model_from_settings` on an HTTP client of its own (the SDK's defaults), closed when the
    block ends: for a process that makes one review (the CLI). Raises ConfigError as it does."""
    async with DefaultAsyncHttpxClient() as http:
        yield model_from_settings(settings, http_client=http, persona_model=persona_model)


def _installed(*modules: str) -> bool:
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                return False
        except ModuleNotFoundError:  # the parent package itself is absent
            return False
    return True
