"""No secret, token, key or signature value ever reaches a log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from app.logs import REDACTED, log_context, setup_logging
from tests.conftest import WEBHOOK_SECRET
from tests.fakes import github_payloads as gh
from tests.fakes.anthropic_api import FakeAnthropic, tool_answer
from tests.llm import ANSWER, Timeline, make_model, review_request

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretbytes\n-----END RSA PRIVATE KEY-----"
SECRETS = [WEBHOOK_SECRET, "sk-ant-api03-abcdefghijklmnop", "lin_api_0123456789abcdef", PEM]


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    setup_logging(fmt="json", level="debug", secrets=SECRETS, stream=stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    "leak",
    [
        *SECRETS,
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjM0In0.c2lnbmF0dXJlYnl0ZXM",
    ],
)
def test_secret_values_and_shapes_are_redacted(log_stream: io.StringIO, leak: str) -> None:
    log = logging.getLogger("app.test")
    log.warning("calling with %s", leak)
    log.info(f"inline {leak} too")
    try:
        raise RuntimeError(f"failed using {leak}")
    except RuntimeError:
        log.exception("it broke")
    out = log_stream.getvalue()
    for fragment in leak.splitlines():
        assert fragment not in out
    assert out.count(REDACTED) >= 3


def test_context_ids_are_on_each_line(log_stream: io.StringIO) -> None:
    log = logging.getLogger("app.test")
    with log_context(delivery_id="d-1", job_id=7):
        log.info("working")
    log.info("outside")
    first, second = lines(log_stream)
    assert (first["delivery_id"], first["job_id"], first["msg"]) == ("d-1", 7, "working")
    assert "delivery_id" not in second


async def test_model_prompts_stay_out_of_debug_logs(log_stream: io.StringIO) -> None:
    """The SDK logs request bodies at DEBUG: even at level debug they must not reach us."""
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(ANSWER))
    await make_model(fake, Timeline()).review(review_request())

    assert fake.requests
    out = log_stream.getvalue()
    assert "def refund()" in review_request().user
    assert "def refund()" not in out
    assert "Request options" not in out


async def test_webhook_refusals_log_no_signature_or_secret(
    log_stream: io.StringIO, app_client: tuple[httpx.AsyncClient, FastAPI]
) -> None:
    client, _ = app_client
    body = gh.encode(gh.pull_request())
    good = gh.sign(WEBHOOK_SECRET, body)
    bad = gh.sign("an attacker's guess", body)
    for signature in (good, bad):
        await client.post(
            "/webhooks/github",
            content=body,
            headers={
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": "abc-123",
                "X-Hub-Signature-256": signature,
            },
        )
    out = log_stream.getvalue()
    assert good.removeprefix("sha256=") not in out
    assert bad.removeprefix("sha256=") not in out
    assert WEBHOOK_SECRET not in out
    messages = [line["msg"] for line in lines(log_stream)]
    assert any("webhook refused (401)" in str(m) for m in messages)
    assert any(line.get("delivery_id") == "abc-123" for line in lines(log_stream))
