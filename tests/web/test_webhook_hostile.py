"""The webhook before authentication, under hostile senders (issue 11, item 3).

Malformed headers cost the sender nothing to be refused and the server no body read; slow,
oversized and flooding senders are bounded in time, memory and disk; every refusal gives its
budget back. Bodies are streamed from async generators, so a test decides exactly when (and
whether) each chunk is handed to the app.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from app.store.facade import Store
from app.web.app import create_app
from app.web.intake import MEMORY_BODY_BYTES, Intake
from app.web.server import with_header_deadline
from tests.conftest import WEBHOOK_SECRET, wait_for
from tests.fakes import github_payloads as gh

MiB = 1024 * 1024
URL = "/webhooks/github"


def signed(body: bytes, **extra: str) -> dict[str, str]:
    return {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": gh.sign(WEBHOOK_SECRET, body),
        "Content-Type": "application/json",
        **extra,
    }


def forged(size: int) -> dict[str, str]:
    """Headers a stranger can send: well-formed, with a signature that cannot match."""
    return signed(b"not the body") | {"Content-Length": str(size)}


class Sender:
    """A body sent in chunks, each only when the test releases it; counts what was taken."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.taken = 0
        self.release = asyncio.Event()
        self.stalled = asyncio.Event()
        self.stall_after = len(chunks)

    def hold_after(self, n: int) -> Sender:
        self.stall_after = n
        return self

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i, chunk in enumerate(self.chunks):
            if i == self.stall_after:
                self.stalled.set()
                await self.release.wait()
            self.taken += 1
            yield chunk


def intake(app: FastAPI) -> Intake:
    found: Intake = app.state.webhook_intake
    return found


def settings_for(tmp_path: Path, **values: Any) -> Settings:
    values = {"github_webhook_secret": WEBHOOK_SECRET, **values}
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        worker_concurrency=0,
        **values,
    )


@asynccontextmanager
async def running(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, store=Store(engine))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=30
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def app_of(client: httpx.AsyncClient) -> FastAPI:
    found: FastAPI = client.app  # type: ignore[attr-defined]
    return found


@pytest.fixture
def spool_dir(tmp_path: Path) -> Iterator[Path]:
    """Temporary files go to a folder of this test's own, so the test can look at it."""
    folder = tmp_path / "spool"
    folder.mkdir()
    saved = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = saved


def open_files_in(folder: Path) -> list[str]:
    """Files this process holds open under `folder` (unlinked ones show as '... (deleted)')."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


# --- headers first ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status"),
    [
        pytest.param({"X-Hub-Signature-256": None}, 401, id="no-signature"),
        pytest.param({"X-Hub-Signature-256": "sha1=" + "a" * 40}, 401, id="sha1"),
        pytest.param({"X-Hub-Signature-256": "sha256=" + "a" * 63}, 401, id="short-hex"),
        pytest.param({"X-Hub-Signature-256": "sha256=" + "g" * 64}, 401, id="not-hex"),
        pytest.param({"X-Hub-Signature-256": "sha256=" + "a" * 6400}, 401, id="long"),
        pytest.param({"X-Hub-Signature-256": "SHA256=" + "a" * 64}, 401, id="prefix-case"),
        pytest.param({"X-GitHub-Event": None}, 400, id="no-event"),
        pytest.param({"X-GitHub-Event": "pull_request\u0000"}, 400, id="event-nul"),
        pytest.param({"X-GitHub-Event": "e" * 65}, 400, id="event-long"),
        pytest.param({"X-GitHub-Delivery": None}, 400, id="no-delivery"),
        pytest.param({"X-GitHub-Delivery": "../../etc"}, 400, id="delivery-path"),
        pytest.param({"X-GitHub-Delivery": "d" * 65}, 400, id="delivery-long"),
        pytest.param({"Content-Length": "12abc"}, 400, id="length-not-a-number"),
        pytest.param({"Content-Length": "9" * 40}, 400, id="length-absurd"),
        pytest.param({"Content-Length": str(25 * MiB + 1)}, 413, id="length-over-cap"),
    ],
)
async def test_bad_headers_are_refused_before_a_byte_of_body_is_read(
    tmp_path: Path, sqlite_engine: AsyncEngine, change: dict[str, str | None], status: int
) -> None:
    body = gh.encode(gh.pull_request())
    hdrs: dict[str, str] = signed(body, **{"Content-Length": str(len(body))})
    for name, value in change.items():
        hdrs.pop(name, None)
        if value is not None:
            hdrs[name] = value
    sender = Sender([body[:100], body[100:]])
    async with running(settings_for(tmp_path), sqlite_engine) as client:
        response = await client.post(URL, content=sender, headers=hdrs)
        budgets = intake(app_of(client))
    assert response.status_code == status, response.text
    assert sender.taken == 0, "the app read a body it could refuse from the headers"
    assert response.headers["connection"] == "close"
    assert (budgets.memory.used, budgets.disk.used) == (0, 0)


async def test_no_secret_is_503_without_reading(tmp_path: Path, sqlite_engine: AsyncEngine) -> None:
    body = gh.encode(gh.pull_request())
    sender = Sender([body])
    settings = settings_for(tmp_path, github_webhook_secret=None)
    async with running(settings, sqlite_engine) as client:
        response = await client.post(URL, content=sender, headers=signed(body))
    assert response.status_code == 503
    assert "retry-after" not in response.headers, "not busy: misconfigured"
    assert sender.taken == 0


# --- bodies -----------------------------------------------------------------------------------


async def test_a_slow_sender_gets_408_and_gives_its_bytes_back(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    body = gh.encode(gh.pull_request())
    sender = Sender([body[:1000], body[1000:]]).hold_after(1)  # never released
    settings = settings_for(tmp_path, intake_read_seconds=0.3)
    async with running(settings, sqlite_engine) as client:
        response = await client.post(URL, content=sender, headers=signed(body))
        budgets = intake(app_of(client))
        # The server still answers the next, prompt delivery.
        after = await client.post(URL, content=body, headers=signed(body))
    assert response.status_code == 408
    assert response.headers["connection"] == "close"
    assert sender.taken == 1
    assert after.status_code == 202
    assert (budgets.memory.used, budgets.disk.used) == (0, 0)


async def test_a_forged_large_body_is_401_and_its_temporary_file_is_gone(
    tmp_path: Path, sqlite_engine: AsyncEngine, spool_dir: Path
) -> None:
    size = 3 * MiB
    sender = Sender([b" " * MiB] * 3).hold_after(2)
    async with running(settings_for(tmp_path), sqlite_engine) as client:
        task = asyncio.create_task(client.post(URL, content=sender, headers=forged(size)))
        await sender.stalled.wait()
        await wait_for(lambda: intake(app_of(client)).disk.used > 0)
        # Mid-body: on disk, not in memory, and already unlinked (nothing to leak on a crash).
        held = open_files_in(spool_dir)
        listed = os.listdir(spool_dir)
        budgets = intake(app_of(client))
        assert (budgets.memory.used, budgets.disk.used) == (0, size)
        sender.release.set()
        response = await task
        after = open_files_in(spool_dir)
    assert len(held) == 1, held
    assert held[0].endswith("(deleted)")
    assert listed == []
    assert response.status_code == 401
    assert after == []
    assert (budgets.memory.used, budgets.disk.used) == (0, 0)


async def test_a_large_signed_body_goes_through_disk_and_is_accepted(
    tmp_path: Path, sqlite_engine: AsyncEngine, spool_dir: Path
) -> None:
    base = gh.encode(gh.pull_request())
    body = base[:-1] + b" " * (2 * MEMORY_BODY_BYTES) + b"}"
    async with running(settings_for(tmp_path), sqlite_engine) as client:
        response = await client.post(URL, content=body, headers=signed(body))
        assert open_files_in(spool_dir) == []
    assert response.status_code == 202, response.text


async def test_a_body_shorter_than_declared_is_400(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    body = gh.encode(gh.pull_request())
    hdrs = signed(body) | {"Content-Length": str(len(body) + 10)}
    async with running(settings_for(tmp_path), sqlite_engine) as client:
        response = await client.post(URL, content=Sender([body]), headers=hdrs)
        budgets = intake(app_of(client))
    assert response.status_code == 400
    assert (budgets.memory.used, budgets.disk.used) == (0, 0)


# --- floods -----------------------------------------------------------------------------------


async def test_a_flood_of_large_posts_gets_503_while_real_deliveries_get_202(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    # Room on disk for two 3 MiB bodies at once; each flooder sends 1 MiB and stalls.
    settings = settings_for(tmp_path, intake_disk_bytes=7 * MiB)
    flooders = [Sender([b"x" * MiB] * 3).hold_after(1) for _ in range(6)]
    async with running(settings, sqlite_engine) as client:
        posts = [
            asyncio.create_task(client.post(URL, content=s, headers=forged(3 * MiB)))
            for s in flooders
        ]
        refused = [await p for p in asyncio.as_completed(posts[2:])]  # type: ignore[arg-type]
        budgets = intake(app_of(client))
        assert budgets.disk.used == 6 * MiB, "two admitted, each holding its declared length"
        real = []
        for number in range(1, 6):
            body = gh.encode(gh.pull_request(number=number))
            real.append(await client.post(URL, content=body, headers=signed(body)))
        for sender in flooders:
            sender.release.set()
        admitted = [await p for p in posts[:2]]
    assert sorted(r.status_code for r in refused) == [503] * 4
    assert all(r.headers["retry-after"].isdigit() for r in refused)
    assert all(r.headers["connection"] == "close" for r in refused)
    assert sum(s.taken for s in flooders[2:]) == 0, "refused before reading their bodies"
    assert [r.status_code for r in real] == [202] * 5
    assert [r.status_code for r in admitted] == [401, 401]
    assert (budgets.memory.used, budgets.disk.used) == (0, 0)


async def test_small_bodies_share_a_memory_budget_counted_in_bytes_received(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    # 256 KiB of memory; each flooder declares 100 KiB and sends 90 KiB before stalling.
    settings = settings_for(tmp_path, intake_memory_bytes=256 * 1024)
    chunk = b"x" * (90 * 1024)
    flooders = [Sender([chunk, b"y" * (10 * 1024)]).hold_after(1) for _ in range(2)]
    idle = Sender([b"z" * 1024]).hold_after(0)  # declares 100 KiB and sends nothing
    async with running(settings, sqlite_engine) as client:
        # The idle sender first: declaring 100 KiB reserves nothing, so the others still fit.
        tasks = []
        for sender in [idle, *flooders]:
            post = client.post(URL, content=sender, headers=forged(100 * 1024))
            tasks.append(asyncio.create_task(post))
            await sender.stalled.wait()
        budgets = intake(app_of(client))
        await wait_for(lambda: budgets.memory.used >= 180 * 1024)
        held = budgets.memory.used
        # 76 KiB left: a declared 100 KiB body cannot fit, a 25 KiB delivery still does.
        too_big = await client.post(URL, content=b"{}", headers=forged(100 * 1024))
        body = gh.encode(gh.pull_request())
        fits = await client.post(URL, content=body, headers=signed(body))
        for sender in [*flooders, idle]:
            sender.release.set()
        finished = [await t for t in tasks]
    assert held == 180 * 1024, "the idle sender holds nothing"
    assert (too_big.status_code, fits.status_code) == (503, 202)
    assert len(body) < 76 * 1024
    assert [r.status_code for r in finished] == [400, 401, 401]
    assert (budgets.memory.used, budgets.disk.used) == (0, 0)


async def test_chunked_bodies_without_a_length_draw_on_the_disk_budget(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    settings = settings_for(tmp_path, intake_disk_bytes=2 * MiB)
    sender = Sender([b"x" * MiB] * 4)
    hdrs = forged(0)
    del hdrs["Content-Length"]
    async with running(settings, sqlite_engine) as client:
        response = await client.post(URL, content=sender, headers=hdrs)
        budgets = intake(app_of(client))
    assert response.status_code == 503
    assert sender.taken == 3, "cut off at the chunk that went over the budget"
    assert (budgets.memory.used, budgets.disk.used) == (0, 0)


# --- through a real server --------------------------------------------------------------------


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[int, FastAPI]]:
    """The app under uvicorn on a loopback port, in a thread of this process."""
    import threading

    import uvicorn

    settings = settings_for(tmp_path, intake_read_seconds=0.5, recover_on_start=False)
    app = create_app(settings)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="on",
        http=with_header_deadline(settings.intake_read_seconds),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):  # bounded: 10 s
        if server.started:
            break
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield port, app
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def raw_request(port: int, head: dict[str, str], body: bytes) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    lines = [f"POST {URL} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in head.items()]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return conn


def read_all(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by the timeout)."""
    received = b""
    while chunk := conn.recv(65536):
        received += chunk
    return received


@pytest.mark.slow
def test_a_slowloris_sender_is_answered_408_and_disconnected(
    live_server: tuple[int, FastAPI],
) -> None:
    port, app = live_server
    body = gh.encode(gh.pull_request())
    with raw_request(port, signed(body, **{"Content-Length": str(len(body))}), body[:10]) as conn:
        answer = read_all(conn)  # returns only because the server closed the connection
    assert answer.startswith(b"HTTP/1.1 408 ")
    budgets = intake(app)
    assert (budgets.memory.used, budgets.disk.used) == (0, 0)


@pytest.mark.slow
def test_a_sender_that_vanishes_mid_body_gives_its_budget_back(
    live_server: tuple[int, FastAPI],
) -> None:
    port, app = live_server
    budgets = intake(app)
    with raw_request(port, forged(5 * MiB), b"x" * MiB):
        for _ in range(500):  # bounded: until the server holds the declared length
            if budgets.disk.used:
                break
            time.sleep(0.01)
        assert budgets.disk.used == 5 * MiB
    for _ in range(500):
        if budgets.disk.used == 0:
            break
        time.sleep(0.01)
    assert (budgets.memory.used, budgets.disk.used) == (0, 0)
    body = gh.encode(gh.pull_request())
    after = httpx.post(f"http://127.0.0.1:{port}{URL}", content=body, headers=signed(body))
    assert after.status_code == 202


@pytest.mark.slow
@pytest.mark.parametrize("sent", [b"", b"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\n"])
def test_a_sender_that_never_finishes_its_headers_is_disconnected(
    live_server: tuple[int, FastAPI], sent: bytes
) -> None:
    port, _ = live_server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(sent)
        # recv returns b"" only because the server closed the connection (or times out: fails).
        assert read_all(conn) == b""
    body = gh.encode(gh.pull_request())
    after = httpx.post(f"http://127.0.0.1:{port}{URL}", content=body, headers=signed(body))
    assert after.status_code == 202
