"""Webhooks through a channel, end to end over loopback HTTP: GitHub posts to a fake smee channel
(tests/fakes/sse_channel.py), `serve` with BACKEND_REVIEW_WEBHOOK_PROXY_URL reads it and posts
each delivery to its own endpoint, which verifies it as it verifies GitHub's own posts."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from app.store.facade import Store
from app.web.app import create_app
from app.webhook_proxy import Forwarder, ProxyConfig, ProxyStatus
from tests.conftest import WEBHOOK_SECRET, wait_for
from tests.fakes.github_payloads import pull_request, sign
from tests.fakes.github_server import FakeGitHub
from tests.fakes.sse_channel import (
    FakeChannel,
    free_socket,
    post_as_github,
    serve_asgi,
    serve_channel,
)

DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
PAYLOAD = pull_request()
PAYLOAD["pull_request"]["title"] = "Ça marche <b> \u2028"


def github_post(
    body: bytes, *, delivery: str = DELIVERY, secret: str = WEBHOOK_SECRET
) -> dict[str, str]:
    """The headers GitHub sends with `body`, signed with `secret`."""
    return {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/abc1234",
        "x-github-event": "pull_request",
        "x-github-delivery": delivery,
        "x-github-hook-id": "42",
        "x-hub-signature-256": sign(secret, body),
    }


def compact(payload: object) -> bytes:
    """As GitHub writes payloads: compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


async def until(condition: Callable[[], bool]) -> None:
    await wait_for(condition, within=10.0)


@asynccontextmanager
async def laptop(
    tmp_path: Path, engine: AsyncEngine, channel: FakeChannel
) -> AsyncIterator[tuple[str, ProxyStatus, Store]]:
    """The fake channel, and `serve` on loopback reading it; yields (the channel's URL, the
    forwarder's status, the store)."""
    async with serve_channel(channel) as base:
        url = f"{base}/Xq3mWn8pZkLc2"
        sock, port = free_socket()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path / "data",
            host="127.0.0.1",
            port=port,
            webhook_proxy_url=url,
            github_app_id=1,
            github_private_key=FakeGitHub().private_key_pem,
            github_webhook_secret=WEBHOOK_SECRET,
            worker_concurrency=0,
            recover_on_start=False,
        )
        store = Store(engine)
        app = create_app(settings, store=store)
        async with serve_asgi(app, name="serve", sock=sock):
            status = app.state.services.forwarder
            assert isinstance(status, ProxyStatus)
            await until(lambda: status.connected and channel.listeners == 1)
            yield url, status, store
        assert channel.listeners == 0, "stopping serve closed the channel's stream"


async def test_a_delivery_through_the_channel_is_verified_and_stored(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    channel = FakeChannel()
    async with laptop(tmp_path, sqlite_engine, channel) as (url, status, store):
        body = compact(PAYLOAD)
        await post_as_github(url, github_post(body), body)
        await until(lambda: status.forwarded == 1)
        stored = await store.list_deliveries()
        assert [(d.id, d.event, d.action, d.repository) for d in stored] == [
            (DELIVERY, "pull_request", "opened", "acme/payments")
        ]
        # Anyone who knows the channel's address saw that signed body and posts it to the
        # channel again under a new delivery id: the signature still matches, and the
        # endpoint answers it `replayed` without storing it.
        await post_as_github(url, github_post(body, delivery="replayed-1"), body)
        # The signature's hex in capitals verifies the same: still the same body.
        shouted = github_post(body, delivery="replayed-2")
        shouted["x-hub-signature-256"] = "sha256=" + shouted["x-hub-signature-256"][7:].upper()
        await post_as_github(url, shouted, body)
        await until(lambda: status.replayed == 2)
        # A delivery with another body goes through as before.
        other = compact({**PAYLOAD, "action": "synchronize"})
        await post_as_github(url, github_post(other, delivery="d-2"), other)
        await until(lambda: status.forwarded == 2)
        assert [d.id for d in await store.list_deliveries()] == ["d-2", DELIVERY]
        assert (status.refused, status.replayed) == (0, 2)
        assert status.last_delivery == "d-2"
        assert len(await store.list_jobs(limit=50)) == 2


async def test_a_replay_after_serve_restarts_creates_nothing(
    tmp_path: Path, engine: AsyncEngine
) -> None:
    """The replay guard is the database's: a restart forgets nothing."""
    body = compact(PAYLOAD)
    async with laptop(tmp_path, engine, FakeChannel()) as (url, status, store):
        await post_as_github(url, github_post(body), body)
        await until(lambda: status.forwarded == 1)
    async with laptop(tmp_path, engine, FakeChannel()) as (url, status, store):
        await post_as_github(url, github_post(body, delivery="evil-replay-1"), body)
        await until(lambda: status.replayed == 1)
        assert [d.id for d in await store.list_deliveries()] == [DELIVERY]
        assert len(await store.list_jobs(limit=50)) == 1
        # GitHub's own redelivery keeps the delivery id: a duplicate, as it always was.
        await post_as_github(url, github_post(body), body)
        await until(lambda: status.forwarded == 1)
        assert status.replayed == 1
        assert len(await store.list_jobs(limit=50)) == 1


async def test_a_bad_signature_is_refused_and_logged_like_a_direct_post(
    tmp_path: Path, sqlite_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    channel = FakeChannel()
    async with laptop(tmp_path, sqlite_engine, channel) as (url, status, store):
        body = compact(PAYLOAD)
        with caplog.at_level(logging.WARNING):
            await post_as_github(url, github_post(body, secret="not the secret"), body)
            await until(lambda: status.refused == 1)
        assert await store.list_deliveries() == []
        assert status.forwarded == 0
    refusals = [r.getMessage() for r in caplog.records if r.name == "app.web.webhooks"]
    assert refusals == ["webhook refused (401): signature does not match the body"]


async def test_a_body_the_channel_rewrites_is_verified_from_its_raw_body(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    """Not compact JSON: the channel's parsed-and-rewritten `body` no longer matches what GitHub
    signed, and only `rawBody` (smee.io's newer server) carries the signed bytes."""
    pretty = json.dumps(PAYLOAD, indent=2).encode()
    with_raw = FakeChannel(raw_body=True)
    async with laptop(tmp_path, sqlite_engine, with_raw) as (url, status, store):
        await post_as_github(url, github_post(pretty), pretty)
        await until(lambda: status.forwarded == 1)
        assert [d.id for d in await store.list_deliveries()] == [DELIVERY]
    without_raw = FakeChannel(raw_body=False)
    other = "0b2b4a4e-0000-4000-8000-000000000001"
    async with laptop(tmp_path, sqlite_engine, without_raw) as (url, status, store):
        await post_as_github(url, github_post(pretty, delivery=other), pretty)
        await until(lambda: status.refused == 1)
        assert [d.id for d in await store.list_deliveries()] == [DELIVERY]


async def test_malformed_and_oversized_events_are_dropped_and_the_stream_goes_on(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    channel = FakeChannel()
    async with laptop(tmp_path, sqlite_engine, channel) as (url, status, store):
        channel.send_raw(b"data: not json\n\n")
        channel.send_raw(b'data: {"x-github-event":"ping"}\n\n')  # no body
        channel.send_raw(b": a comment\nevent: ping\ndata: {}\n\n")  # smee's keep-alive
        channel.send_raw(b"data: " + b"x" * (5 * 1024 * 1024) + b"\n\n")  # over the 4 MiB cap
        channel.send_raw(b"data: {\xff\xfe}\n\n")
        await until(lambda: status.dropped == 4)
        body = compact(PAYLOAD)
        await post_as_github(url, github_post(body), body)
        await until(lambda: status.forwarded == 1)
        assert status.connected
        assert len(await store.list_deliveries()) == 1


async def test_the_forwarder_reconnects_honouring_retry_and_sends_the_last_event_id(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    channel = FakeChannel(retry_ms=20)
    async with laptop(tmp_path, sqlite_engine, channel) as (url, status, store):
        body = compact(PAYLOAD)
        await post_as_github(url, github_post(body), body)
        await until(lambda: status.forwarded == 1)
        channel.end_streams()
        await until(lambda: channel.connections == 2 and channel.listeners == 1)
        assert channel.last_event_ids == [None, "2"]
        second = compact(pull_request(number=8))
        other = "0b2b4a4e-0000-4000-8000-000000000002"
        await post_as_github(url, github_post(second, delivery=other), second)
        await until(lambda: status.forwarded == 2)
        assert {d.id for d in await store.list_deliveries()} == {DELIVERY, other}


async def test_an_id_that_cannot_be_sent_back_is_ignored_and_the_forwarder_connects_again() -> None:
    """A hostile channel's ids: one not ASCII could not go in the Last-Event-ID header (every
    reconnection failed before connecting), a long one would be sent on every reconnection."""
    channel = FakeChannel()
    async with serve_channel(channel) as base:
        forwarder = Forwarder(ProxyConfig(f"{base}/c", "http://127.0.0.1:9/x"), sleep=Sleeps())
        forwarder.start()
        try:
            await until(lambda: forwarder.status.connected)
            channel.send_raw("id: caf\u00e9\nevent: ping\ndata: {}\n\n".encode())
            channel.send_raw(b"id: " + b"7" * 100_000 + b"\nevent: ping\ndata: {}\n\n")
            channel.send_raw(b"event: ping\ndata: {}\n\n")
            await asyncio.sleep(0.2)
            channel.end_streams()
            await until(lambda: channel.connections == 2 and forwarder.status.connected)
        finally:
            await forwarder.stop()
    assert channel.last_event_ids == [None, "1"]


class Sleeps:
    """Records the forwarder's delays and lets it go on at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


async def test_failures_back_off_doubling_up_to_the_cap_and_reset_after_an_event() -> None:
    channel = FakeChannel()
    channel.refuse_next(6, 503)
    sleeps = Sleeps()
    async with serve_channel(channel) as base:
        # Any stream that opens counts as a good connection here (healthy_seconds=0).
        config = ProxyConfig(
            f"{base}/chan", "http://127.0.0.1:9/unused", max_delay=20.0, healthy_seconds=0.0
        )
        forwarder = Forwarder(config, sleep=sleeps)
        forwarder.start()
        try:
            await until(lambda: forwarder.status.connected)
            assert sleeps.delays == [3.0, 6.0, 12.0, 20.0, 20.0, 20.0]
            assert forwarder.status.reconnects == 6
            channel.end_streams()  # this connection opened: back to the start
            await until(lambda: channel.connections == 8 and forwarder.status.connected)
            assert sleeps.delays[6:] == [3.0]
        finally:
            await forwarder.stop()
        assert not forwarder.status.connected
        await until(lambda: channel.listeners == 0)


async def test_a_channel_that_says_ready_and_hangs_up_is_backed_off_from() -> None:
    """`retry: 0` and `ready` on every connection, then the stream ends: not a good connection,
    so the delays grow, and never below a second whatever the channel asks."""
    channel = FakeChannel(retry_ms=0)
    sleeps = Sleeps()
    async with serve_channel(channel) as base:
        config = ProxyConfig(f"{base}/chan", "http://127.0.0.1:9/unused", max_delay=8.0)
        forwarder = Forwarder(config, sleep=sleeps)
        forwarder.start()
        try:
            for n in range(1, 5):
                await until(lambda n=n: channel.connections == n and forwarder.status.connected)  # type: ignore[misc]
                channel.end_streams()
            await until(lambda: len(sleeps.delays) >= 4)
        finally:
            await forwarder.stop()
    assert sleeps.delays[:4] == [1.0, 2.0, 4.0, 8.0]


async def test_an_answer_that_is_not_an_event_stream_is_a_failure() -> None:
    """The channel's address without `/` path, a proxy's error page: anything but a stream."""
    channel = FakeChannel()
    sleeps = Sleeps()
    async with serve_channel(channel) as base:
        forwarder = Forwarder(ProxyConfig(f"{base}/a/b", "http://127.0.0.1:9/x"), sleep=sleeps)
        forwarder.start()
        try:
            await until(lambda: len(sleeps.delays) >= 2)
        finally:
            await forwarder.stop()
    assert forwarder.status.last_error == "the channel answered 404 (text/plain; charset=utf-8)"
    assert not forwarder.status.connected


class Endpoint:
    """Our webhook endpoint as the forwarder sees it: busy (503, Retry-After) `busy` times."""

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.bodies: list[bytes] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        status, headers = (202, []) if self.busy <= 0 else (503, [(b"retry-after", b"2")])
        self.busy -= 1
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})


async def test_a_busy_endpoint_is_posted_to_again_and_one_that_never_takes_it_is_given_up() -> None:
    channel = FakeChannel()
    endpoint = Endpoint(busy=2)
    sleeps = Sleeps()
    body = compact(PAYLOAD)
    async with serve_channel(channel) as base, serve_asgi(endpoint, name="endpoint") as target:
        forwarder = Forwarder(ProxyConfig(f"{base}/c", f"{target}/webhooks/github"), sleep=sleeps)
        forwarder.start()
        try:
            await until(lambda: forwarder.status.connected)
            await post_as_github(f"{base}/c", github_post(body), body)
            await until(lambda: forwarder.status.forwarded == 1)
        finally:
            await forwarder.stop()
    assert endpoint.bodies == [body, body, body]
    assert sleeps.delays == [2.0, 4.0]  # at least Retry-After, doubling from 0.5 s

    async with serve_channel(channel) as base:
        nowhere = Forwarder(ProxyConfig(f"{base}/c", "http://127.0.0.1:9/x"), sleep=Sleeps())
        nowhere.start()
        try:
            await until(lambda: nowhere.status.connected)
            await post_as_github(f"{base}/c", github_post(body), body)
            await until(lambda: nowhere.status.dropped == 1)
        finally:
            await nowhere.stop()
    assert nowhere.status.last_error == f"delivery {DELIVERY} not taken (ConnectError)"
    assert nowhere.status.forwarded == 0


async def test_a_bug_while_reading_is_logged_and_the_forwarder_connects_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from app.webhook_proxy import forwarder as module

    class Broken(module.EventParser):
        broke = False

        def feed(self, chunk: bytes) -> list[Any]:
            if not Broken.broke:
                Broken.broke = True
                raise RuntimeError("a bug")
            return super().feed(chunk)

    monkeypatch.setattr(module, "EventParser", Broken)
    channel = FakeChannel()
    sleeps = Sleeps()
    async with serve_channel(channel) as base:
        forwarder = Forwarder(ProxyConfig(f"{base}/c", "http://127.0.0.1:9/x"), sleep=sleeps)
        with caplog.at_level(logging.ERROR):
            forwarder.start()
            try:
                await until(lambda: channel.connections == 2 and forwarder.status.connected)
            finally:
                await forwarder.stop()
    assert sleeps.delays == [3.0]
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == "webhook forwarder failed; connecting again"
    assert record.exc_info is not None


class Proxy:
    """An HTTP proxy that takes no request anywhere: it keeps each request line and answers
    502."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        self.requests.append(line.decode("latin-1").strip())
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


@asynccontextmanager
async def a_proxy(monkeypatch: pytest.MonkeyPatch, *, no_proxy: str) -> AsyncIterator[Proxy]:
    """A proxy the environment names for every http:// URL (but `no_proxy`'s hosts)."""
    proxy = Proxy()
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", no_proxy)
    try:
        yield proxy
    finally:
        server.close()
        await server.wait_closed()


async def test_our_own_endpoint_is_posted_to_directly_whatever_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A laptop behind a proxy: HTTP_PROXY set and NO_PROXY naming the channel's host only.
    The delivery still goes straight to our loopback endpoint, never to the proxy."""
    channel = FakeChannel()
    endpoint = Endpoint(busy=0)
    body = compact(PAYLOAD)
    async with serve_channel(channel) as base, serve_asgi(endpoint, name="endpoint") as target:
        chan = base.replace("127.0.0.1", "localhost") + "/c"
        async with a_proxy(monkeypatch, no_proxy="localhost") as proxy:
            forwarder = Forwarder(ProxyConfig(chan, f"{target}/webhooks/github"), sleep=Sleeps())
            forwarder.start()
            try:
                await until(lambda: forwarder.status.connected)
                await post_as_github(chan, github_post(body), body)
                await until(lambda: forwarder.status.forwarded == 1)
            finally:
                await forwarder.stop()
    assert endpoint.bodies == [body]
    assert proxy.requests == []


async def test_the_channel_is_reached_through_the_environments_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A laptop behind a proxy needs it to reach smee.io."""
    async with a_proxy(monkeypatch, no_proxy="") as proxy:
        forwarder = Forwarder(ProxyConfig("http://127.0.0.1:9/chan", "http://127.0.0.1:9/x"))
        forwarder.start()
        try:
            await until(lambda: forwarder.status.last_error is not None)
        finally:
            await forwarder.stop()
    assert proxy.requests[:1] == ["GET http://127.0.0.1:9/chan HTTP/1.1"]
    assert forwarder.status.last_error == "the channel answered 502 (no type)"
