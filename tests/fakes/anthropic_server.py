"""`FakeAnthropic` served over real HTTP on the loopback interface.

    with AnthropicServer() as server:          # port 0: the OS picks a free port
        server.fake.enqueue(tool_answer({...}))
        env = {"ANTHROPIC_BASE_URL": server.base_url, "ANTHROPIC_API_KEY": server.fake.api_key}
        ...                                    # the SDK talks HTTP/1.1 to 127.0.0.1
        server.fake.requests                   # what reached it

A `ThreadingHTTPServer` reads each request and hands it to the fake's async handler, which runs
on one asyncio loop in a thread of its own, so a `hang()` answer waits without holding the
server. Closing cancels answers still waiting, shuts the open connections, joins every thread
and closes the loop; an exception in the fake itself is re-raised by `close()`, so a bug in the
fake fails the test instead of looking like a network error.

A streamed answer (`"stream": true`) is written as it is produced, in chunked transfer
encoding, so the client sees `message_start` while the rest is still being generated.

Over a real socket a transport failure cannot be raised into the client: a queued `timeout()` or
`connection_error()` makes the server drop the connection without answering, which the client
sees as a lost connection. For a real timeout, queue `hang()`.

As a process (for end-to-end tests):

    python -m tests.fakes.anthropic_server [--answers FILE] [--requests FILE] [--api-key KEY]
                                           [--measure-usage]

prints its base URL (`http://127.0.0.1:PORT`) as the first line on stdout and serves until
SIGTERM or SIGINT. `--answers` is a JSON list of
`{"status", "body", "headers", "delay", "generation"}` answers queued in order (build them
with this module's `answer_json`); `--requests` is rewritten after every request with the
JSON list of requests received so far.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx2

from tests.fakes.anthropic_api import Answer, FakeAnthropic

HOST = "127.0.0.1"
# Hop-by-hop or framing headers the server writes itself.
_OWN_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


class AnthropicServer:
    """A running `FakeAnthropic` on `base_url`; a context manager, also usable as a fixture."""

    def __init__(self, fake: FakeAnthropic | None = None, *, port: int = 0) -> None:
        self.fake = fake or FakeAnthropic()
        self.errors: list[BaseException] = []  # raised by the fake while answering
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._http: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._pending: set[concurrent.futures.Future[httpx2.Response]] = set()
        self._connections: set[socket.socket] = set()
        self._closed = False
        self.on_request: list[Callable[[], None]] = []  # run after each request

    @property
    def port(self) -> int:
        if self._http is None:
            raise RuntimeError("the server is not started")
        return int(self._http.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> AnthropicServer:
        loop_thread = threading.Thread(
            target=self._loop.run_forever, name="fake-anthropic-loop", daemon=True
        )
        loop_thread.start()
        self._threads.append(loop_thread)
        self._http = _Server((HOST, self._port), _Handler, owner=self)
        http_thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-anthropic-http",
            daemon=True,
        )
        http_thread.start()
        self._threads.append(http_thread)
        return self

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._http is not None:
            self._http.shutdown()  # no new connections
            with self._lock:
                pending, connections = list(self._pending), list(self._connections)
            for future in pending:
                future.cancel()  # a hang() answer ends now
            for conn in connections:
                # Wakes a handler blocked reading the next request on a kept-alive connection.
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._http.server_close()  # joins the handler threads
        self._loop.call_soon_threadsafe(self._loop.stop)
        for thread in self._threads:
            thread.join(timeout=10)
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        if tasks:
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()
        if self.errors:
            raise RuntimeError("FakeAnthropic failed while answering") from self.errors[0]

    def __enter__(self) -> AnthropicServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
            return
        with contextlib.suppress(RuntimeError):  # the test's own failure is the one to show
            self.close()

    # --- used by the handler threads ---------------------------------------------------------

    def _answer(self, request: httpx2.Request) -> httpx2.Response | None:
        """The fake's response, or None when the connection is to be dropped unanswered."""
        future = asyncio.run_coroutine_threadsafe(self.fake.handler(request), self._loop)
        with self._lock:
            self._pending.add(future)
        try:
            return future.result()
        except (httpx2.TransportError, concurrent.futures.CancelledError):
            return None
        except Exception as exc:  # noqa: BLE001 - a bug in the fake: kept, re-raised by close()
            self.errors.append(exc)
            return httpx2.Response(500, text=f"FakeAnthropic failed: {type(exc).__name__}")
        finally:
            with self._lock:
                self._pending.discard(future)
            for callback in self.on_request:
                callback()

    def _chunks(self, response: httpx2.Response) -> Iterator[bytes]:
        """A streamed response's body, each piece as the fake's loop produces it."""
        pieces = response.aiter_raw()
        while True:
            future = asyncio.run_coroutine_threadsafe(_next_piece(pieces), self._loop)
            with self._lock:
                self._pending.add(future)
            try:
                piece = future.result()
            except concurrent.futures.CancelledError:
                return
            finally:
                with self._lock:
                    self._pending.discard(future)
            if piece is None:
                return
            yield piece

    def _track(self, conn: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)


async def _next_piece(pieces: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await anext(pieces)
    except StopAsyncIteration:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins them
    block_on_close = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        owner: AnthropicServer,
    ) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, OSError):  # a client hanging up is normal
            self.owner.errors.append(exc)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.owner._track(self.connection, open_=False)
        with contextlib.suppress(OSError):  # the client may be gone already
            super().finish()

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            self._send(httpx2.Response(411, text="FakeAnthropic reads Content-Length bodies only"))
            return
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("host") or f"{HOST}:{self.server.server_address[1]}"
        request = httpx2.Request(
            self.command,
            f"http://{host}{self.path}",
            headers=[(k, v) for k, v in self.headers.items() if k.lower() != "content-length"],
            content=body,
        )
        response = self.server.owner._answer(request)
        if response is None:
            self.close_connection = True
            return
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            self._send_stream(response)
            return
        self._send(response)

    def _send_stream(self, response: httpx2.Response) -> None:
        self.send_response_only(response.status_code)
        for name, value in response.headers.multi_items():
            if name.lower() not in _OWN_HEADERS:
                self.send_header(name, value)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            for piece in self.server.owner._chunks(response):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _send(self, response: httpx2.Response) -> None:
        content = response.content
        # send_response_only: the fake's own `date` must be the only one (retry-after dates).
        self.send_response_only(response.status_code)
        for name, value in response.headers.multi_items():
            if name.lower() not in _OWN_HEADERS:
                self.send_header(name, value)
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        try:
            self.wfile.write(content)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the process under test owns stderr (tests assert on it)."""


# --- the process ---------------------------------------------------------------------------


def answer_json(answer: Answer) -> dict[str, Any]:
    """One `--answers` entry for `answer` (a transport failure cannot cross a process)."""
    if answer.exception is not None:
        raise ValueError("a transport failure cannot be written to an answers file: use hang()")
    return {
        "status": answer.status,
        "body": answer.body,
        "headers": dict(answer.headers),
        "delay": answer.delay,
        "generation": answer.generation,
    }


def _load_answers(path: Path) -> list[Answer]:
    items = json.loads(path.read_text(encoding="utf-8"))
    return [
        Answer(
            status=int(item.get("status", 200)),
            body=dict(item.get("body", {})),
            headers=dict(item.get("headers", {})),
            delay=float(item.get("delay", 0.0)),
            generation=float(item.get("generation", 0.0)),
        )
        for item in items
    ]


def _dump_requests(fake: FakeAnthropic, path: Path, lock: threading.Lock) -> None:
    with lock:
        data = json.dumps([asdict(r) for r in fake.requests], indent=1)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, path)  # a reader never sees half a file


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.anthropic_server")
    parser.add_argument("--answers", type=Path, help="JSON list of answers to queue")
    parser.add_argument("--requests", type=Path, help="file rewritten with the requests seen")
    parser.add_argument("--api-key", default=FakeAnthropic.API_KEY)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--measure-usage", action="store_true", help="usage from the request and the cache"
    )
    args = parser.parse_args(argv)

    fake = FakeAnthropic(api_key=args.api_key, measure_usage=args.measure_usage)
    if args.answers is not None:
        fake.enqueue(*_load_answers(args.answers))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = AnthropicServer(fake, port=args.port)
    if args.requests is not None:
        path, lock = args.requests, threading.Lock()
        server.on_request.append(lambda: _dump_requests(fake, path, lock))
    with server:
        print(server.base_url, flush=True)
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
