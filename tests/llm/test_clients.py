"""Clients and the model built from an `LLMConfig`, per provider, all offline."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import pytest
from anthropic import AsyncAnthropic, AsyncAnthropicBedrock
from pydantic import SecretStr

from app.errors import ConfigError
from app.llm import LLMConfig, LLMRejected, LLMUnavailable, make_client, model_from_config
from tests.fakes.anthropic_api import BASE_URL, FakeAnthropic, error, rate_limited, tool_answer
from tests.llm import ANSWER, MODEL, review_request


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.fixture(autouse=True)
def _no_provider_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK reads some of these itself: the config alone decides here."""
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "AWS_", "BACKEND_REVIEW_", "CLOUD_ML_")):
            monkeypatch.delenv(name)


def config(**values: Any) -> LLMConfig:
    """A config with the settings' defaults; `api_key` as a plain string for brevity."""
    key = values.pop("api_key", None)
    return LLMConfig(
        **{
            "provider": "anthropic",
            "model": MODEL,
            "max_output_tokens": 8192,
            "timeout_seconds": 120.0,
            "max_attempts": 3,
            "api_key": SecretStr(key) if key is not None else None,
            **values,
        }
    )


async def test_anthropic_client_talks_to_the_configured_base_url() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(ANSWER))
    direct = config(
        api_key=fake.api_key, base_url=BASE_URL, timeout_seconds=45.0, max_output_tokens=3000
    )

    client = make_client(direct, http_client=fake.http_client())
    assert isinstance(client, AsyncAnthropic)
    assert client.max_retries == 0

    model = model_from_config(direct, http_client=fake.http_client())
    reply = await model.review(review_request())

    assert reply.tool_input == ANSWER
    [sent] = fake.requests
    assert sent.url == f"{BASE_URL}/v1/messages"
    assert sent.headers["authorization"] == f"Bearer {fake.api_key}"
    assert sent.headers["x-stainless-timeout"] == "45.0"
    assert (sent.json["model"], sent.json["max_tokens"]) == (MODEL, 3000)


async def test_the_model_uses_the_attempts_and_hides_the_key() -> None:
    fake = FakeAnthropic(api_key="correct-horse-battery-staple-0042")
    fake.respond_with(lambda _: rate_limited(retry_after=0))
    model = model_from_config(
        config(api_key=fake.api_key, base_url=BASE_URL, max_attempts=2, secrets=(fake.api_key,)),
        http_client=fake.http_client(),
    )

    with pytest.raises(LLMUnavailable, match="after 2 attempts"):
        await model.review(review_request())
    assert len(fake.requests) == 2

    fake.respond_with(lambda _: error(400, "invalid_request_error", f"key {fake.api_key}"))
    with pytest.raises(LLMRejected) as caught:
        await model.review(review_request())
    assert fake.api_key not in caught.value.reason


async def test_every_configured_secret_is_scrubbed_from_a_reason() -> None:
    fake = FakeAnthropic()
    leaked = "linear-key-that-the-gateway-echoes"
    fake.respond_with(lambda _: error(400, "invalid_request_error", f"saw {leaked}"))
    model = model_from_config(
        config(api_key=fake.api_key, base_url=BASE_URL, secrets=(leaked,)),
        http_client=fake.http_client(),
    )

    with pytest.raises(LLMRejected) as caught:
        await model.review(review_request())

    assert leaked not in caught.value.reason
    assert "saw" in caught.value.reason


def test_a_persona_model_wins_on_the_direct_api_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-test")
    direct = config(api_key="k", model="claude-sonnet-4-6")
    bedrock = config(
        provider="bedrock", aws_region="eu-west-1", model="anthropic.claude-sonnet-4-6"
    )

    assert model_from_config(direct, persona_model="claude-opus-4-6").model == "claude-opus-4-6"
    assert model_from_config(direct, persona_model=None).model == "claude-sonnet-4-6"
    on_bedrock = model_from_config(bedrock, persona_model="claude-opus-4-6")
    assert on_bedrock.model == "anthropic.claude-sonnet-4-6"


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"api_key": ""},
        {"provider": "bedrock"},
        {"provider": "bedrock", "aws_region": ""},
        {"provider": "vertex", "vertex_project_id": "acme"},
    ],
)
def test_a_config_without_its_key_or_region_is_refused(values: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="lacks its key or region"):
        config(**values)


def test_the_key_stays_out_of_the_config_repr() -> None:
    secret = "sk-ant-never-printed-0042"
    shown = repr(config(api_key=secret, secrets=(secret, "linear-secret")))

    assert secret not in shown
    assert "linear-secret" not in shown


async def test_aclose_closes_the_sdk_client() -> None:
    fake = FakeAnthropic()
    http_client = fake.http_client()
    model = model_from_config(
        config(api_key=fake.api_key, base_url=BASE_URL), http_client=http_client
    )

    await model.aclose()

    assert http_client.is_closed


@pytest.mark.skipif(_installed("boto3"), reason="boto3 is installed: the AWS extra is present")
def test_bedrock_without_boto3_says_which_extra_to_install() -> None:
    with pytest.raises(ConfigError) as caught:
        make_client(config(provider="bedrock", aws_region="eu-west-1"))

    assert caught.value.setting == "BACKEND_REVIEW_LLM_PROVIDER"
    assert "pip install 'anthropic[bedrock]'" in caught.value.problem


async def test_bedrock_with_a_bearer_token_needs_no_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "bedrock-api-key-ABSKQmVkcm9ja0FQSUtleS1"
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", token)
    fake = FakeAnthropic()
    bedrock_id = "us.anthropic.claude-sonnet-4-6"  # an inference profile's id
    bedrock = config(provider="bedrock", aws_region="eu-west-1", model=bedrock_id)

    model = model_from_config(bedrock, http_client=fake.http_client())

    # The fake speaks only the Anthropic API, so Bedrock's route is a 404 there.
    with pytest.raises(LLMRejected, match=r"not found \(404") as caught:
        await model.review(review_request())

    [sent] = fake.requests
    # Bedrock's streams need botocore to decode: without it the call is not streamed.
    route = "invoke-with-response-stream" if importlib.util.find_spec("botocore") else "invoke"
    host = "https://bedrock-runtime.eu-west-1.amazonaws.com"
    assert sent.url == f"{host}/model/{bedrock_id}/{route}"
    assert sent.headers["authorization"] == f"Bearer {token}"
    assert token not in caught.value.reason
    assert isinstance(make_client(bedrock), AsyncAnthropicBedrock)


@pytest.mark.skipif(_installed("google.auth"), reason="google-auth is installed")
def test_vertex_without_google_auth_says_which_extra_to_install() -> None:
    with pytest.raises(ConfigError) as caught:
        make_client(config(provider="vertex", vertex_region="us-east5", vertex_project_id="acme"))

    assert caught.value.setting == "BACKEND_REVIEW_LLM_PROVIDER"
    assert "pip install 'anthropic[vertex]'" in caught.value.problem
