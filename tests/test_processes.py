"""The real commands as separate processes: serve, SIGTERM drain, kill -9 and recovery."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import WEBHOOK_SECRET
from tests.fakes import github_payloads as gh

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(command: str, data: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    full_env = {
        **os.environ,
        "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BACKEND_REVIEW_DATA_DIR": str(data),
        "BACKEND_REVIEW_PORT": str(port),
        "BACKEND_REVIEW_JOB_POLL_SECONDS": "0.1",
        "BACKEND_REVIEW_LOG_FORMAT": "json",
        **env,
    }
    full_env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "app", command],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=data.parent,
    )


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90  # a loaded 2-core machine starts slowly
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become ready")


def deliver(port: int, number: int) -> httpx.Response:
    body = gh.encode(gh.pull_request("opened", number=number))
    return httpx.post(
        f"http://127.0.0.1:{port}/webhooks/github",
        content=body,
        headers={
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": f"delivery-{number}",
            "X-Hub-Signature-256": gh.sign(WEBHOOK_SECRET, body),
        },
        timeout=10,
    )


def output(proc: subprocess.Popen[bytes]) -> str:
    """Everything the process printed; closes the pipe."""
    if proc.stdout is None or proc.stdout.closed:
        return ""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)
    with proc.stdout:
        return proc.stdout.read().decode()


def job_states(data: Path) -> list[str]:
    with sqlite3.connect(data / "backend-review.db") as db:
        return [row[0] for row in db.execute("SELECT status FROM jobs ORDER BY id")]


def tried(data: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(data / "backend-review.db") as db:
        query = "SELECT status, last_error FROM jobs WHERE last_error IS NOT NULL ORDER BY id"
        return [(row[0], row[1] or "") for row in db.execute(query)]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_serve_accepts_refuses_oversize_early_and_drains_on_sigterm(data: Path) -> None:
    port = free_port()
    proc = start("serve", data, port)
    try:
        wait_ready(port, proc)
        assert deliver(port, 1).status_code == 202
        # Announce 30 MiB, send 10 bytes: the answer must come without the rest.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                # Well-formed headers: the size is judged only once they pass.
                b"X-GitHub-Event: ping\r\nX-GitHub-Delivery: big-1\r\n"
                b"X-Hub-Signature-256: sha256=" + b"0" * 64 + b"\r\n"
                b'Content-Length: 31457280\r\n\r\n{"a": 1}  '
            )
            answer = sock.recv(200)
        assert answer.startswith(b"HTTP/1.1 413")
        # No GitHub App is configured here: the job is tried, kept, and retried later.
        deadline = time.monotonic() + 10
        while not tried(data) and time.monotonic() < deadline:
            time.sleep(0.1)
        [(status, error)] = tried(data)
        assert status == "queued"
        assert "the GitHub App is not configured" in error
        proc.send_signal(signal.SIGTERM)
        # 0 after the drain, as `worker`: uvicorn would raise the signal again (exit 143).
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    log = output(proc)
    assert WEBHOOK_SECRET not in log
    assert '"msg": "Application shutdown complete."' in log


def test_kill_9_loses_no_accepted_delivery(data: Path) -> None:
    port = free_port()
    server = start("serve", data, port, BACKEND_REVIEW_WORKER_CONCURRENCY="0")
    try:
        wait_ready(port, server)
        accepted = [n for n in range(1, 31) if deliver(port, n).status_code == 202]
    finally:
        server.kill()  # SIGKILL: no shutdown code runs
        server.wait(timeout=10)
        output(server)
    assert len(accepted) == 30
    assert job_states(data) == ["queued"] * 30
    worker = start("worker", data, port)
    try:
        # Every accepted delivery's job reaches a worker (which, with no GitHub App configured
        # here, keeps it for a retry: tests/e2e runs them against a fake GitHub).
        deadline = time.monotonic() + 90  # a loaded 2-core machine starts slowly
        while len(tried(data)) < 30 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(tried(data)) == 30
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, output(worker)
    finally:
        if worker.poll() is None:
            worker.kill()
        output(worker)
