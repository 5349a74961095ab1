"""Clients and the model built from settings, per provider, all offline."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import pytest
from anthropic import AsyncAnthropic, AsyncAnthropicBedrock

from app.errors import ConfigError
from app.llm import LLMRejected, LLMUnavailable, make_client, model_from_settings
from app.settings import Settings
from tests.fakes.anthropic_api import BASE_URL, FakeAnthropic, error, rate_limited, tool_answer
from tests.llm import ANSWER, MODEL, review_request


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Settings built from arguments only: no provider variables, no .env file."""
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "AWS_", "BACKEND_REVIEW_", "CLOUD_ML_")):
            monkeypatch.delenv(name)

    def build(**values: Any) -> Settings:
        return Settings(_env_file=None, **{"model": MODEL, **values})

    return build


async def test_anthropic_client_talks_to_the_configured_base_url(settings: Any) -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(ANSWER))
    config = settings(
        anthropic_api_key=fake.api_key,
        anthropic_base_url=BASE_URL,
        llm_timeout_seconds=45,
        llm_max_output_tokens=3000,
    )

    client = make_client(config, http_client=fake.http_client())
    assert isinstance(client, AsyncAnthropic)
    assert client.max_retries == 0

    model = model_from_settings(config, http_client=fake.http_client())
    assert model is not None
    reply = await model.review(review_request())

    assert reply.tool_input == ANSWER
    [sent] = fake.requests
    assert sent.url == f"{BASE_URL}/v1/messages"
    assert sent.headers["authorization"] == f"Bearer {fake.api_key}"
    assert sent.headers["x-stainless-timeout"] == "45.0"
    assert (sent.json["model"], sent.json["max_tokens"]) == (MODEL, 3000)


async def test_model_from_settings_uses_the_attempts_and_hides_the_key(settings: Any) -> None:
    fake = FakeAnthropic(api_key="correct-horse-battery-staple-0042")
    fake.respond_with(lambda _: rate_limited(retry_after=0))
    config = settings(
        anthropic_api_key=fake.api_key, anthropic_base_url=BASE_URL, llm_max_attempts=2
    )
    model = model_from_settings(config, http_client=fake.http_client())
    assert model is not None

    with pytest.raises(LLMUnavailable, match="after 2 attempts"):
        await model.review(review_request())
    assert len(fake.requests) == 2

    fake.respond_with(lambda _: error(400, "invalid_request_error", f"key {fake.api_key}"))
    with pytest.raises(LLMRejected) as caught:
        await model.review(review_request())
    assert fake.api_key not in caught.value.reason


def test_a_persona_model_wins_on_the_direct_api_only(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-test")
    direct = settings(anthropic_api_key="k", model="claude-sonnet-4-6")
    bedrock = settings(
        llm_provider="bedrock", aws_region="eu-west-1", model="anthropic.claude-sonnet-4-6"
    )

    chosen = model_from_settings(direct, persona_model="claude-opus-4-1")
    assert chosen is not None
    assert chosen.model == "claude-opus-4-1"
    unchanged = model_from_settings(direct, persona_model=None)
    assert unchanged is not None
    assert unchanged.model == "claude-sonnet-4-6"
    on_bedrock = model_from_settings(bedrock, persona_model="claude-opus-4-1")
    assert on_bedrock is not None
    assert on_bedrock.model == "anthropic.claude-sonnet-4-6"


def test_no_key_means_no_model(settings: Any) -> None:
    config = settings()

    assert model_from_settings(config) is None
    with pytest.raises(ConfigError) as caught:
        make_client(config)
    assert caught.value.setting == "ANTHROPIC_API_KEY"
    assert str(caught.value) == "ANTHROPIC_API_KEY: is not set"


def test_an_empty_key_means_no_model(settings: Any) -> None:
    config = settings(anthropic_api_key="")

    assert config.llm_missing() == "ANTHROPIC_API_KEY is not set"
    assert model_from_settings(config) is None
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY: is not set"):
        make_client(config)


async def test_aclose_closes_the_sdk_client(settings: Any) -> None:
    fake = FakeAnthropic()
    http_client = fake.http_client()
    model = model_from_settings(
        settings(anthropic_api_key=fake.api_key, anthropic_base_url=BASE_URL),
        http_client=http_client,
    )
    assert model is not None

    await model.aclose()

    assert http_client.is_closed


@pytest.mark.skipif(_installed("boto3"), reason="boto3 is installed: the AWS extra is present")
def test_bedrock_without_boto3_says_which_extra_to_install(settings: Any) -> None:
    config = settings(llm_provider="bedrock", aws_region="eu-west-1")

    with pytest.raises(ConfigError) as caught:
        make_client(config)

    assert caught.value.setting == "BACKEND_REVIEW_LLM_PROVIDER"
    assert "pip install 'anthropic[bedrock]'" in caught.value.problem


def test_bedrock_needs_a_region(settings: Any) -> None:
    config = settings(llm_provider="bedrock")

    assert model_from_settings(config) is None
    with pytest.raises(ConfigError, match=r"^AWS_REGION: is not set"):
        make_client(config)


async def test_bedrock_with_a_bearer_token_needs_no_boto3(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "bedrock-api-key-ABSKQmVkcm9ja0FQSUtleS1"
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", token)
    fake = FakeAnthropic()
    config = settings(llm_provider="bedrock", aws_region="eu-west-1")

    model = model_from_settings(config, http_client=fake.http_client())
    assert model is not None

    # The fake speaks only the Anthropic API, so Bedrock's route is a 404 there.
    with pytest.raises(LLMRejected, match=r"not found \(404") as caught:
        await model.review(review_request())

    [sent] = fake.requests
    assert sent.url == f"https://bedrock-runtime.eu-west-1.amazonaws.com/model/{MODEL}/invoke"
    assert sent.headers["authorization"] == f"Bearer {token}"
    assert token not in caught.value.reason
    assert isinstance(make_client(config), AsyncAnthropicBedrock)


@pytest.mark.skipif(_installed("google.auth"), reason="google-auth is installed")
def test_vertex_without_google_auth_says_which_extra_to_install(settings: Any) -> None:
    config = settings(llm_provider="vertex", vertex_region="us-east5", vertex_project_id="acme")

    with pytest.raises(ConfigError) as caught:
        make_client(config)

    assert caught.value.setting == "BACKEND_REVIEW_LLM_PROVIDER"
    assert "pip install 'anthropic[vertex]'" in caught.value.problem


def test_vertex_needs_a_region(settings: Any) -> None:
    config = settings(llm_provider="vertex")

    assert model_from_settings(config) is None
    with pytest.raises(ConfigError, match=r"^CLOUD_ML_REGION: is not set"):
        make_client(config)
