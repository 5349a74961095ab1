"""Building the SDK client and the review model from an `LLMConfig`, for each provider.

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
from app.llm.config import LLMConfig

_PROVIDER_SETTING = "BACKEND_REVIEW_LLM_PROVIDER"
# With this variable set, the Bedrock client sends a bearer token and needs no boto3 signing.
_BEDROCK_BEARER_ENV = "AWS_BEARER_TOKEN_BEDROCK"


def make_client(config: LLMConfig, *, http_client: httpx2.AsyncClient | None = None) -> Client:
    """The SDK client for `config.provider`; ConfigError when the provider's extra is missing."""
    timeout = config.timeout_seconds
    if config.provider == "bedrock":
        if not os.environ.get(_BEDROCK_BEARER_ENV) and not _installed("boto3", "botocore"):
            raise ConfigError(
                _PROVIDER_SETTING, "bedrock needs the AWS extra: pip install 'anthropic[bedrock]'"
            )
        return AsyncAnthropicBedrock(
            aws_region=config.aws_region,
            max_retries=0,
            timeout=timeout,
            http_client=http_client,
        )
    if config.provider == "vertex":
        # Without an access token the client loads Google credentials at request time.
        if not _installed("google.auth"):
            raise ConfigError(
                _PROVIDER_SETTING,
                "vertex needs the Google extra: pip install 'anthropic[vertex]'",
            )
        return AsyncAnthropicVertex(
            region=config.vertex_region or not_given,
            project_id=config.vertex_project_id or not_given,
            max_retries=0,
            timeout=timeout,
            http_client=http_client,
        )
    # LLMConfig refuses the direct API without a key.
    key = config.api_key.get_secret_value() if config.api_key else ""
    return AsyncAnthropic(
        # Explicit, so the SDK never falls back to profiles on disk (GITHUB-FACTS).
        api_key=key,
        base_url=config.base_url,
        max_retries=0,
        timeout=timeout,
        http_client=http_client,
    )


def model_from_config(
    config: LLMConfig,
    *,
    http_client: httpx2.AsyncClient | None = None,
    persona_model: str | None = None,
) -> AnthropicModel:
    """The review model; ConfigError as `make_client`.

    `persona_model` (a persona's `model`) wins over `config.model` on the direct API only:
    Bedrock and Vertex name models their own way, so there the configured id stays. A model
    the capability table lacks is a ValueError: the callers refuse it first
    (`app.jobs.llm_config.model_refusal`).
    """
    client = make_client(config, http_client=http_client)
    secrets = list(config.secrets)
    if isinstance(client, AsyncAnthropicBedrock) and client.api_key:
        secrets.append(client.api_key)
    return AnthropicModel(
        client,
        model=persona_model if persona_model and config.provider == "anthropic" else config.model,
        max_output_tokens=config.max_output_tokens,
        timeout_seconds=config.timeout_seconds,
        max_attempts=config.max_attempts,
        secrets=secrets,
        thinking_budget=config.thinking_budget,
    )


@asynccontextmanager
async def model_of_one_run(
    config: LLMConfig, *, persona_model: str | None = None
) -> AsyncIterator[AnthropicModel]:
    """`model_from_config` on an HTTP client of its own (the SDK's defaults), closed when the
    block ends: for a process that makes one review (the CLI). Raises ConfigError as it does."""
    async with DefaultAsyncHttpxClient() as http:
        yield model_from_config(config, http_client=http, persona_model=persona_model)


def _installed(*modules: str) -> bool:
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                return False
        except ModuleNotFoundError:  # the parent package itself is absent
            return False
    return True
