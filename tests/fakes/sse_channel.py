"""A fake smee.io channel server as an ASGI app, served on a loopback port by the tests.

    channel = FakeChannel(raw_body=False)
    async with serve_channel(channel) as base:             # http://127.0.0.1:PORT
        url = f"{base}/abc123"                              # a channel
        await post_as_github(url, headers, body)            # GitHub posting to the channel

As smee.io does: `GET /{channel}` with `Accept: text/event-stream` opens a stream that starts
with `event: ready` and carries every later POST to that channel as one event whose data is a
JSON object of the POST's headers (lower-cased), `body` (the JSON body parsed and written again,
compact, as `JSON.stringify` writes it), `query` and `timestamp`; with `raw_body` also `rawBody`,
the body as it arrived (smee.io's newer server). Other `Accept` values get an HTML page, and a
body that is not a JSON object is answered 400.

Test controls: `send_raw(bytes)` writes bytes as they are to every open stream (malformed
streams), `end_streams()` closes them (the forwarder must connect again), `refuse_next(n,
status)` answers the next n stream requests with `status`, `retry_ms` sends a `retry:` field at
the start of each stream; `connections` counts stream requests and `last_event_ids` keeps the
`Last-Event-ID` each one carried.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

_END = b""


class FakeChannel:
    def __init__(self, *, raw_body: bool = False, retry_ms: int | None = None) -> None:
        self.raw_body = raw_body
        self.retry_ms = retry_ms
        self.connections = 0
        self.last_event_ids: list[str | None] = []
        self._refusals: list[int] = []
        self._streams: set[asyncio.Queue[bytes]] = set()
        self._count = 0
        self.app = Starlette(
            routes=[
                Route("/{channel}", self._listen, methods=["GET"]),
                Route("/{channel}", self._post, methods=["POST"]),
            ]
        )

    @property
    def listeners(self) -> int:
        return len(self._streams)

    def refuse_next(self, times: int, status: int = 503) -> None:
        self._refusals += [status] * times

    def send_raw(self, data: bytes) -> None:
        for queue in self._streams:
            queue.put_nowait(data)

    def end_streams(self) -> None:
        for queue in self._streams:
            queue.put_nowait(_END)

    async def _listen(self, request: Request) -> Response:
        if request.headers.get("accept") != "text/event-stream":
            return HTMLResponse("<html>webhooks</html>")
        self.connections += 1
        self.last_event_ids.append(request.headers.get("last-event-id"))
        if self._refusals:
            return PlainTextResponse("busy", status_code=self._refusals.pop(0))
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._streams.add(queue)
        first = f"retry: {self.retry_ms}\n" if self.retry_ms is not None else ""
        queue.put_nowait(f"{first}id: {self._next_id()}\nevent: ready\ndata: {{}}\n\n".encode())

        async def stream() -> AsyncIterator[bytes]:
            try:
                while (data := await queue.get()) != _END:
                    yield data
            finally:
                self._streams.discard(queue)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )

    async def _post(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return PlainTextResponse("bad json", status_code=400)
        if not isinstance(body, dict):
            return PlainTextResponse("body must be an object", status_code=400)
        payload: dict[str, object] = dict(request.headers.items())
        payload["body"] = body
        if self.raw_body:
            payload["rawBody"] = raw.decode("utf-8")
        payload["query"] = dict(request.query_params)
        payload["timestamp"] = 1_700_000_000_000
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        self.send_raw(f"id: {self._next_id()}\ndata: {data}\n\n".encode())
        return PlainTextResponse("ok\n")

    def _next_id(self) -> int:
        self._count += 1
        return self._count


def free_socket() -> tuple[socket.socket, int]:
    """A socket bound to a free loopback port, and the port (for settings made before serving)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    return sock, port


@asynccontextmanager
async def serve_asgi(
    app: object, *, name: str = "server", sock: socket.socket | None = None
) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a loopback port (`sock`'s, or a free one), in this
    event loop; yields its base URL."""
    if sock is None:
        sock, port = free_socket()
    else:
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        loop="none",
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=name)
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"{name} did not start")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@asynccontextmanager
async def serve_channel(channel: FakeChannel) -> AsyncIterator[str]:
    async with serve_asgi(channel.app, name="fake-channel") as base:
        try:
            yield base
        finally:
            channel.end_streams()


async def post_as_github(url: str, headers: dict[str, str], body: bytes) -> None:
    async with httpx.AsyncClient() as client:
        reply = await client.post(url, content=body, headers=headers)
    reply.raise_for_status()
