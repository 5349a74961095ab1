"""Refusals are final, every SDK error is translated, and the key never leaks."""

from __future__ import annotations

import importlib.util
import logging

import pytest
from anthropic import AsyncAnthropicVertex

from app.errors import BackendReviewError
from app.llm import AnthropicModel, LLMError, LLMRejected, LLMUnavailable
from tests.fakes.anthropic_api import (
    Answer,
    FakeAnthropic,
    connection_error,
    error,
    overloaded,
    rate_limited,
    server_error,
    text_answer,
    timeout,
    tool_answer,
)
from tests.llm import ANSWER, MODEL, Timeline, make_model, review_request

# Not shaped like an Anthropic key, so only the adapter's `secrets` can hide it.
PLAIN_KEY = "correct-horse-battery-staple-0042"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            error(400, "invalid_request_error", "prompt is too long: 212000 tokens > 200000"),
            "invalid request (400 invalid_request_error): prompt is too long: 212000 tokens"
            " > 200000",
        ),
        (
            error(403, "permission_error", "Your API key does not have permission."),
            "permission denied (403 permission_error): Your API key does not have permission.",
        ),
        (
            error(404, "not_found_error", f"model: {MODEL}-nope"),
            f"not found (404 not_found_error): is the model '{MODEL}' available here?"
            f" The API said: model: {MODEL}-nope",
        ),
        (
            error(413, "request_too_large", "Request exceeds the maximum allowed number of bytes."),
            "request too large (413 request_too_large): Request exceeds the maximum allowed"
            " number of bytes.",
        ),
        (
            error(422, "invalid_request_error", "unprocessable"),
            "unprocessable request (422 invalid_request_error): unprocessable",
        ),
    ],
)
async def test_permanent_errors_are_rejected_at_once(answer: Answer, reason: str) -> None:
    fake, timeline = FakeAnthropic(), Timeline()
    fake.enqueue(answer, tool_answer(ANSWER))

    with pytest.raises(LLMRejected) as caught:
        await make_model(fake, timeline).review(review_request())

    assert caught.value.reason == reason
    assert str(caught.value) == reason
    assert len(fake.requests) == 1
    assert timeline.waits == []


async def test_a_wrong_key_is_rejected_with_a_pointer_to_the_setting() -> None:
    fake = FakeAnthropic()
    model = make_model(fake, Timeline(), api_key="sk-ant-api03-wrongwrongwrongwrong")

    with pytest.raises(LLMRejected) as caught:
        await model.review(review_request())

    assert caught.value.reason == (
        "authentication failed (401 authentication_error): check ANTHROPIC_API_KEY"
    )
    assert len(fake.requests) == 1


async def test_the_fake_accepts_the_key_as_the_sdk_sends_it() -> None:
    fake = FakeAnthropic()
    fake.enqueue(text_answer("ok"))

    await make_model(fake, Timeline()).review(review_request())

    [sent] = fake.requests
    assert "x-api-key" not in sent.headers
    assert sent.headers["authorization"] == f"Bearer {fake.api_key}"


@pytest.mark.parametrize(
    "answer",
    [
        error(400, "invalid_request_error", f"x-api-key header is {PLAIN_KEY}"),
        error(401, "authentication_error", f"invalid x-api-key {PLAIN_KEY}"),
        error(529, "overloaded_error", f"Overloaded for key {PLAIN_KEY}"),
    ],
)
async def test_a_key_echoed_by_the_api_is_scrubbed(
    answer: Answer, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeAnthropic(api_key=PLAIN_KEY)
    fake.respond_with(lambda _: answer)
    caplog.set_level(logging.DEBUG, logger="app.llm")

    with pytest.raises(LLMError) as caught:
        await make_model(fake, Timeline()).review(review_request())

    exc = caught.value
    assert PLAIN_KEY not in str(exc)
    assert PLAIN_KEY not in exc.reason
    assert PLAIN_KEY not in repr(exc.args)
    assert PLAIN_KEY not in caplog.text
    # The SDK's exception, whose text carries the whole error body, is not chained on.
    assert exc.__cause__ is None
    assert exc.__context__ is None


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (overloaded(), LLMUnavailable),
        (rate_limited(retry_after=1), LLMUnavailable),
        (server_error(), LLMUnavailable),
        (error(502, "api_error", "Bad gateway"), LLMUnavailable),
        (error(408, "timeout_error", "Request timeout"), LLMUnavailable),
        (timeout(), LLMUnavailable),
        (connection_error(), LLMUnavailable),
        (error(400, "invalid_request_error", "bad"), LLMRejected),
        (error(402, "billing_error", "Your credit balance is too low."), LLMRejected),
        (error(405, "invalid_request_error", "Method Not Allowed"), LLMRejected),
        (Answer(status=418, body={"not": "an error body"}), LLMRejected),
    ],
)
async def test_no_sdk_exception_escapes(answer: Answer, expected: type[LLMError]) -> None:
    fake = FakeAnthropic()
    fake.respond_with(lambda _: answer)

    with pytest.raises(BackendReviewError) as caught:
        await make_model(fake, Timeline()).review(review_request())

    assert type(caught.value) is expected


async def test_an_answer_that_is_not_json_is_a_server_error() -> None:
    fake = FakeAnthropic()
    fake.respond_with(lambda _: Answer(status=502, body={}, headers={"content-type": "text/html"}))

    with pytest.raises(LLMUnavailable, match=r"server error \(502 no error type\) after 3"):
        await make_model(fake, Timeline()).review(review_request())


@pytest.mark.skipif(
    importlib.util.find_spec("google") is not None
    and importlib.util.find_spec("google.auth") is not None,
    reason="google-auth is installed, so the Vertex client would look for real credentials",
)
async def test_vertex_without_google_auth_is_rejected_with_the_fix() -> None:
    fake = FakeAnthropic()
    client = AsyncAnthropicVertex(
        region="us-east5", project_id="acme-reviews", max_retries=0, http_client=fake.http_client()
    )
    model = AnthropicModel(
        client, model=MODEL, max_output_tokens=1024, timeout_seconds=30,
        max_attempts=3,
    )  # fmt: skip

    with pytest.raises(LLMRejected) as caught:
        await model.review(review_request())

    assert "google-auth" in caught.value.reason
    assert "anthropic[vertex]" in caught.value.reason
    assert fake.requests == []
