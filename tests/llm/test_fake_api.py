"""The fake refuses what the real API refuses; otherwise the adapter's tests would prove little."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.fakes.anthropic_api import (
    BASE_URL,
    FakeAnthropic,
    request_problem,
    text_answer,
    tool_answer,
)

TOOL = {
    "name": "submit_review",
    "input_schema": {"type": "object", "properties": {}, "additionalProperties": False},
    "strict": True,
}


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Review this."}],
        "tools": [TOOL],
        "tool_choice": {"type": "tool", "name": "submit_review"},
    }
    return {**body, **changes}


async def _post(
    fake: FakeAnthropic, body: Any, *, path: str = "/v1/messages", **headers: str
) -> httpx2.Response:
    sent = {"anthropic-version": "2026-10-21", "x-api-key": fake.api_key, **headers}
    sent = {k: v for k, v in sent.items() if v}
    async with fake.http_client() as http:
        return await http.post(f"{BASE_URL}{path}", json=body, headers=sent)


async def test_a_valid_request_gets_a_message_naming_the_forced_tool() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer({"summary": "ok"}))

    response = await _post(fake, _body())

    assert response.status_code == 200
    message = response.json()
    assert message["id"].startswith("msg_01")
    assert (message["type"], message["role"], message["model"]) == (
        "message",
        "assistant",
        "claude-sonnet-4-6",
    )
    [block] = message["content"]
    assert (block["type"], block["name"], block["input"]) == (
        "tool_use",
        "submit_review",
        {"summary": "ok"},
    )
    assert block["id"].startswith("toolu_01")
    assert set(message["usage"]) >= {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }


@pytest.mark.parametrize(
    ("path", "headers", "status", "error_type"),
    [
        ("/v1/complete", {}, 404, "not_found_error"),
        ("/v1/messages", {"anthropic-version": ""}, 400, "invalid_request_error"),
        ("/v1/messages", {"x-api-key": "sk-ant-api03-nope"}, 401, "authentication_error"),
        ("/v1/messages", {"x-api-key": ""}, 401, "authentication_error"),
    ],
)
async def test_route_version_and_key_are_checked(
    path: str, headers: dict[str, str], status: int, error_type: str
) -> None:
    fake = FakeAnthropic()
    fake.enqueue(text_answer("should not be sent"))

    response = await _post(fake, _body(), path=path, **headers)

    assert response.status_code == status
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert body["request_id"].startswith("req_")
    assert response.headers["request-id"].startswith("req_")
    if status == 401:
        assert body["error"]["message"] == "invalid x-api-key"


async def test_an_invalid_request_does_not_use_up_the_queued_answer() -> None:
    fake = FakeAnthropic()
    fake.enqueue(text_answer("for the valid request"))

    bad = await _post(fake, _body(temperature=0.2))
    good = await _post(fake, _body())

    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "temperature: Extra inputs are not permitted"
    assert good.json()["content"] == [{"type": "text", "text": "for the valid request"}]


async def test_nothing_queued_is_a_loud_server_error() -> None:
    response = await _post(FakeAnthropic(), _body())

    assert response.status_code == 500
    assert "no answer queued" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"max_tokens": None}, "max_tokens"),
        ({"model": ""}, "model"),
        ({"top_k": 5}, "top_k: Extra inputs are not permitted"),
        ({"messages": []}, "at least one message"),
        ({"messages": [{"role": "assistant", "content": "hi"}]}, "first message"),
        (
            {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
            "roles must alternate",
        ),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]}, "non-empty"),
        (
            {
                "messages": [
                    {"role": "user", "content": "a"},
                    {
                        "role": "assistant",
                        "content": [
                            {"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}
                        ],
                    },
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "first"},
                            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "x"},
                        ],
                    },
                ]
            },
            "tool_result blocks must come first",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "a"},
                    {
                        "role": "assistant",
                        "content": [
                            {"type": "tool_use", "id": "toolu_1", "name": "t", "input": []}
                        ],
                    },
                    {
                        "role": "user",
                        "content": [{"type": "tool_result", "tool_use_id": "toolu_1"}],
                    },
                ]
            },
            "input: Input should be a valid dictionary",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "x"}]}
                ]
            },
            "unexpected `tool_use_id`",
        ),
        ({"tool_choice": {"type": "tool", "name": "other"}}, "tool 'other' was not found"),
        ({"tools": [{**TOOL, "input_schema": {"type": "array"}}]}, "Input should be 'object'"),
        (
            {"tools": [{**TOOL, "input_schema": {"type": "object", "properties": {}}}]},
            "'additionalProperties' must be explicitly set to false",
        ),
        (
            {
                "system": [
                    {"type": "text", "text": str(i), "cache_control": {"type": "ephemeral"}}
                    for i in range(5)
                ]
            },
            "A maximum of 4 blocks with cache_control",
        ),
    ],
)
def test_body_rules(changes: dict[str, Any], complaint: str) -> None:
    body = {k: v for k, v in _body(**changes).items() if v is not None}

    problem = request_problem(body)

    assert problem is not None
    assert complaint in problem
    assert request_problem(_body()) is None
