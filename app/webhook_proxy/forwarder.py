"""Listen on a webhook channel and post each delivery to our own webhook endpoint.

    forwarder = Forwarder(ProxyConfig(channel_url, target_url))
    forwarder.start()            # a background task: connect, read, forward, reconnect
    forwarder.status             # connected? deliveries forwarded, the last one, the last error
    await forwarder.stop()

The channel is read as a server-sent-events stream (`GET` with `Accept: text/event-stream`)
through httpx, one chunk at a time, into `app.webhook_proxy.sse` (bounded per event). Each
delivery is posted to `target_url`, the server's own `POST /webhooks/github`, with GitHub's
headers and body (`app.webhook_proxy.channel`): it is checked there exactly as a delivery from
GitHub is (signature, sizes, duplicates, replays), and a refusal is logged there like any other.
One delivery is posted at a time; while it is, the stream is not read (TCP holds the rest).
The channel is reached through the environment's proxy (HTTP(S)_PROXY, NO_PROXY) as any httpx
client is; our own endpoint never is (a proxy would not reach our loopback address, or would
see every delivery).

Replays: anyone who knows a channel's address reads every signed delivery and can post one to
the channel again under a new delivery id; GitHub's signature covers the body only. Our
endpoint remembers the sha256 of every body it stored (in the database, so across restarts)
and answers such a delivery 200 `replayed` without storing it; it is counted here as
`replayed`.

When the stream ends or fails, the forwarder connects again after a delay: the channel's last
`retry:` (3 s until it sends one), doubled on each failure in a row up to `max_delay` (3 s,
6 s, 12 s, ...), back to the start once a connection has delivered a delivery or stayed open
`healthy_seconds` (a quiet channel that drops idle streams is not failing; one that says
`ready` and hangs up is, and is not reconnected to faster than once a second). It sends
`Last-Event-ID` as EventSource does.
A stream that is silent for `read_seconds` (smee pings every 30 s) counts as failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from app import __version__
from app.webhook_proxy.channel import NOT_DELIVERIES, ChannelEventError, forwarded
from app.webhook_proxy.sse import Event, EventParser, Oversized

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
USER_AGENT = f"backend-review/{__version__}"
DEFAULT_RETRY_SECONDS = 3.0
# A channel's `retry:` is anyone's number: never reconnect more often than this.
MIN_RETRY_SECONDS = 1.0
_SLICE = 8192


@dataclass(frozen=True)
class ProxyConfig:
    channel_url: str
    target_url: str  # our own webhook endpoint
    max_event_bytes: int = 4 * 1024 * 1024
    read_seconds: float = 90.0
    max_delay: float = 60.0
    post_attempts: int = 5  # the server may still be starting, or busy (503)
    healthy_seconds: float = 30.0  # a stream open this long was a good connection


@dataclass
class ProxyStatus:
    """What the home page shows of the forwarder; no URL path (the channel's is a capability)."""

    channel_origin: str
    connected: bool = False
    forwarded: int = 0
    refused: int = 0  # deliveries our endpoint answered with a 4xx (a bad signature: 401)
    last_delivery: str | None = None  # its X-GitHub-Delivery
    last_error: str | None = None
    dropped: int = 0  # events that were not deliveries we could pass on
    replayed: int = 0  # deliveries our endpoint answered `replayed` (a body it took before)
    reconnects: int = 0


class Forwarder:
    def __init__(
        self,
        config: ProxyConfig,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.config = config
        url = httpx.URL(config.channel_url)
        self.status = ProxyStatus(channel_origin=f"{url.scheme}://{url.netloc.decode()}")
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self._retry = DEFAULT_RETRY_SECONDS
        self._last_id = ""

    def start(self) -> None:
        log.info(
            "forwarding webhooks from the channel on %s to %s",
            self.status.channel_origin,
            self.config.target_url,
        )
        self._task = asyncio.create_task(self.run(), name="webhook-proxy")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.status.connected = False

    async def run(self) -> None:
        timeout = httpx.Timeout(10.0, read=self.config.read_seconds)
        headers = {"user-agent": USER_AGENT}
        async with (
            httpx.AsyncClient(timeout=timeout, headers=headers) as channel,
            httpx.AsyncClient(timeout=timeout, headers=headers, trust_env=False) as local,
        ):
            failures = 0
            while True:
                try:
                    delivered = await self._listen(channel, local)
                except Exception:  # a bug: say so, and keep the laptop's webhooks coming
                    log.exception("webhook forwarder failed; connecting again")
                    self.status.last_error = "the forwarder failed (see the log)"
                    delivered = False
                self.status.connected = False
                failures = 0 if delivered else failures + 1
                self.status.reconnects += 1
                await self._sleep(self._delay(failures))

    def _delay(self, failures: int) -> float:
        """The channel's retry, doubled for each failure in a row after the first, capped."""
        doublings: int = min(max(failures - 1, 0), 16)
        return min(self.config.max_delay, self._retry * 2.0**doublings)

    async def _listen(self, channel: httpx.AsyncClient, local: httpx.AsyncClient) -> bool:
        """One connection to the channel, until it ends; True when it was a good one: a
        delivery came through, or the stream stayed open `healthy_seconds` (smee's `ready` on
        every connection does not count)."""
        # identity: a compressed stream could grow without bound as it is decoded.
        headers = {
            "accept": "text/event-stream",
            "accept-encoding": "identity",
            "cache-control": "no-cache",
        }
        if self._last_id:
            headers["last-event-id"] = self._last_id
        got_event = False
        opened: float | None = None
        try:
            async with channel.stream("GET", self.config.channel_url, headers=headers) as reply:
                kind = reply.headers.get("content-type", "")
                if reply.status_code != 200 or not kind.startswith("text/event-stream"):
                    self._failed(f"the channel answered {reply.status_code} ({kind or 'no type'})")
                    return False
                if reply.headers.get("content-encoding", "identity") != "identity":
                    self._failed("the channel sent a compressed stream")
                    return False
                self.status.connected = True
                self.status.last_error = None
                opened = asyncio.get_running_loop().time()
                log.info("connected to the webhook channel on %s", self.status.channel_origin)
                parser = EventParser(self.config.max_event_bytes)
                async for chunk in reply.aiter_raw():
                    # In slices, yielding between them: this loop also answers GitHub's
                    # webhooks and the probes, and a channel's stream is anyone's bytes.
                    for at in range(0, len(chunk), _SLICE):
                        for item in parser.feed(chunk[at : at + _SLICE]):
                            got_event = await self._handle(local, item) or got_event
                        await asyncio.sleep(0)
                    if parser.retry_ms is not None:
                        self._retry = max(MIN_RETRY_SECONDS, parser.retry_ms / 1000)
                    self._last_id = parser.last_id
            self._failed("the channel closed the stream")
        except httpx.HTTPError as exc:
            self._failed(f"the channel could not be read ({type(exc).__name__})")
        lasted = opened is not None and (
            asyncio.get_running_loop().time() - opened >= self.config.healthy_seconds
        )
        return got_event or lasted

    def _failed(self, reason: str) -> None:
        self.status.last_error = reason
        log.warning(
            "webhook channel on %s: %s; connecting again", self.status.channel_origin, reason
        )

    async def _handle(self, client: httpx.AsyncClient, item: Event | Oversized) -> bool:
        """Pass one event on; True when it was a delivery our endpoint took."""
        if isinstance(item, Oversized):
            self.status.dropped += 1
            log.warning("webhook channel sent an event over %d bytes: dropped", item.limit)
            return False
        if item.type in NOT_DELIVERIES:
            return False
        try:
            delivery = forwarded(item.data)
        except ChannelEventError as exc:
            self.status.dropped += 1
            log.warning("webhook channel sent an event that is not a delivery: %s", exc.reason)
            return False
        return await self._post(client, delivery.headers, delivery.body, delivery.delivery)

    async def _post(
        self, client: httpx.AsyncClient, headers: dict[str, str], body: bytes, name: str
    ) -> bool:
        delay = 0.5
        for attempt in range(1, self.config.post_attempts + 1):
            try:
                reply = await client.post(self.config.target_url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                outcome = f"not taken ({type(exc).__name__})"
            else:
                if reply.status_code < 500:
                    self._posted(name, reply)
                    return reply.status_code < 300
                outcome = f"answered {reply.status_code}"
                delay = max(delay, _retry_after(reply))
            if attempt < self.config.post_attempts:
                await self._sleep(delay)
                delay = min(delay * 2, 10.0)
        self.status.dropped += 1
        self.status.last_error = f"delivery {name} {outcome}"
        log.error(
            "forwarded delivery %s %s after %d attempts; redeliver it from the App's "
            "Advanced settings on GitHub",
            name,
            outcome,
            self.config.post_attempts,
        )
        return False

    def _posted(self, name: str, reply: httpx.Response) -> None:
        self.status.last_delivery = name
        status = reply.status_code
        if status < 300 and _outcome(reply) == "replayed":
            # Our endpoint logged it too; said here as well, since it came through the channel.
            self.status.replayed += 1
            log.warning(
                "forwarded delivery %s carries the signed body of a delivery already taken: "
                "a replay through the channel, not stored",
                name,
            )
        elif status < 300:
            self.status.forwarded += 1
            log.info("forwarded delivery %s: %d", name, status)
        else:
            # Our endpoint logged why (a signature that does not match: 401).
            self.status.refused += 1
            log.warning("forwarded delivery %s refused by our webhook endpoint: %d", name, status)


def _outcome(reply: httpx.Response) -> str | None:
    """The `outcome` our endpoint answered with, if it said one."""
    try:
        answer = reply.json()
    except ValueError:
        return None
    outcome = answer.get("outcome") if isinstance(answer, dict) else None
    return outcome if isinstance(outcome, str) else None


def _retry_after(reply: httpx.Response) -> float:
    value = reply.headers.get("retry-after", "")
    return min(float(value), 10.0) if value.isdigit() else 0.0
