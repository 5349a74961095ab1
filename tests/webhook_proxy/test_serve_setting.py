"""How `serve` is told about a webhook channel, and when it does not forward."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app import runtime
from app.cli.main import _settings, build_parser, main
from app.errors import ConfigError
from app.settings import Settings
from app.store.facade import Store


def test_the_flag_and_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    args = build_parser().parse_args(["serve", "--webhook-proxy", "https://smee.io/abcDEF123"])
    assert str(_settings(args).webhook_proxy_url) == "https://smee.io/abcDEF123"
    monkeypatch.setenv("BACKEND_REVIEW_WEBHOOK_PROXY_URL", "https://smee.io/fromEnv")
    assert str(_settings(build_parser().parse_args(["serve"])).webhook_proxy_url) == (
        "https://smee.io/fromEnv"
    )
    assert str(_settings(args).webhook_proxy_url) == "https://smee.io/abcDEF123", "flag wins"


def test_a_url_that_is_not_one_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(["serve", "--webhook-proxy", "smee.io/no-scheme"])
    with pytest.raises(ConfigError) as caught:
        _settings(args)
    assert caught.value.setting == "BACKEND_REVIEW_WEBHOOK_PROXY_URL"
    assert main(["serve", "--webhook-proxy", "not a url"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("backend-review: configuration error: BACKEND_REVIEW_WEBHOOK_PROXY_URL")
    assert len(err.strip().splitlines()) == 1


def test_the_own_endpoint_is_on_loopback_even_when_serve_binds_every_interface() -> None:
    base = Settings(_env_file=None)  # type: ignore[call-arg]
    assert runtime.own_webhook_url(base) == "http://127.0.0.1:8000/webhooks/github"
    wildcard = base.model_copy(update={"host": "0.0.0.0", "port": 9000})  # noqa: S104
    assert runtime.own_webhook_url(wildcard) == "http://127.0.0.1:9000/webhooks/github"
    v6 = base.model_copy(update={"host": "::1"})
    assert runtime.own_webhook_url(v6) == "http://[::1]:8000/webhooks/github"


async def test_no_forwarding_until_the_app_is_configured(
    tmp_path: Path, sqlite_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        webhook_proxy_url="https://smee.io/abc",
    )
    with caplog.at_level(logging.WARNING):
        parts = await runtime.start(settings, slots=0, intake=True, store=Store(sqlite_engine))
        await parts.stop()
    assert parts.forwarder is None
    assert "not forwarding until the GitHub App is configured" in caplog.text
