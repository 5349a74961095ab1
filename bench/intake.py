"""Webhook intake benchmark: `backend-review serve` against a bare FastAPI + SQLite app.

Starts every server itself (subprocesses, temp data dirs, free ports on 127.0.0.1), drives each
with signed `pull_request` deliveries (~25 KB bodies, a unique X-GitHub-Delivery and body per
request,
PR numbers cycling over a few hundred PRs so jobs coalesce), and prints deliveries/s and
acknowledgement latency (p50/p99/max) for:

  1. the generator's own ceiling, against a trivial raw-asyncio server;
  2. the bare app (verify signature + commit one SQLite row per request);
  3. `backend-review serve` with the worker off (BACKEND_REVIEW_WORKER_CONCURRENCY=0);
  4. `backend-review serve` with the worker on (default 2 slots: reviews running meanwhile);

each in a closed loop (N keep-alive connections, next request as soon as the answer arrives) and
an open loop (a fixed rate; latency counted from the scheduled send time, so a stall is not
hidden by the generator waiting for it). After each run of our app the server is killed with
SIGKILL and its database is checked: every delivery answered 202 must be there with its job.

The load generator is a raw HTTP/1.1 keep-alive client on asyncio protocols (uvloop when
installed), with request bytes prepared up front; it runs in this process on its own core.

    .venv/bin/python bench/intake.py                  # the whole comparison, ~1.5 minutes
    .venv/bin/python bench/intake.py --quick          # a smoke run, ~25 seconds
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import hashlib
import hmac
import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))
from payload import (  # type: ignore[import-not-found,unused-ignore]
    pull_request_body,
    pull_request_body_start,
    unique_ending,
)

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
SECRET = "bench-webhook-secret-not-for-production"  # noqa: S105 - a test value
REQUEST_TIMEOUT = 10.0  # GitHub gives up on a delivery after 10 s
CLK_TCK = os.sysconf("SC_CLK_TCK")
# uvloop's loop.time() ticks in whole milliseconds: too coarse for latencies.
clock = time.perf_counter


# ----------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Template:
    """One PR's request: `head + signature + DELIVERY + delivery_id + START + body_start +
    ending` is a complete signed HTTP/1.1 request, where `ending` (`unique_ending`) makes the
    body one of its own and `signature` is `mac` fed the ending: a copy and a few dozen
    bytes per request, not the whole body."""

    head: bytes
    mac: hmac.HMAC  # over body_start
    body_start: bytes


DELIVERY = b"\r\nX-GitHub-Delivery: "
START = b"\r\n\r\n"


def build_templates(port: int, prs: int, secret: str = SECRET) -> list[Template]:
    templates = []
    for number in range(1, prs + 1):
        action = "opened" if number % 10 == 0 else "synchronize"
        start = pull_request_body_start(number, action=action)
        length = len(start) + len(unique_ending(0))
        head = (
            "POST /webhooks/github HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "User-Agent: GitHub-Hookshot/bench\r\n"
            "Accept: */*\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {length}\r\n"
            "X-GitHub-Event: pull_request\r\n"
            "X-GitHub-Hook-ID: 412345678\r\n"
            "X-GitHub-Hook-Installation-Target-ID: 1020304\r\n"
            "X-GitHub-Hook-Installation-Target-Type: integration\r\n"
            "X-Hub-Signature-256: sha256="
        ).encode()
        templates.append(Template(head, hmac.new(secret.encode(), start, hashlib.sha256), start))
    return templates


class RequestSource:
    """Hands out (delivery id, request parts), cycling through the PR templates."""

    def __init__(self, templates: Sequence[Template]) -> None:
        self._templates = templates
        self._next = 0

    def take(self) -> tuple[str, list[bytes]]:
        template = self._templates[self._next % len(self._templates)]
        self._next += 1
        delivery = str(uuid.uuid4())
        ending = unique_ending(self._next)
        mac = template.mac.copy()
        mac.update(ending)
        signature = mac.hexdigest().encode()
        head = [template.head, signature, DELIVERY, delivery.encode(), START]
        return delivery, [*head, template.body_start, ending]


# ----------------------------------------------------------------------------- client


class ConnectionLost(Exception):
    pass


class HttpConnection(asyncio.Protocol):
    """One keep-alive connection, one request in flight at a time; status code out."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[int] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.closed = False

    @classmethod
    async def open(cls, port: int) -> HttpConnection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(cls, "127.0.0.1", port)
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionLost(str(exc) if exc else "closed by server"))

    def _fail(self, exc: Exception) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    def _timed_out(self) -> None:
        self._timer = None
        self._fail(TimeoutError(f"no answer within {REQUEST_TIMEOUT:.0f}s"))
        self.close()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self._buf[:end]).lower()
        length = 0
        at = head.find(b"\r\ncontent-length:")
        if at >= 0:
            stop = head.find(b"\r\n", at + 2)
            length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        if len(self._buf) < total:
            return
        status = int(head[9:12])
        del self._buf[:total]
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(status)

    async def request(self, parts: list[bytes]) -> int:
        assert self._transport is not None
        if self.closed:
            raise ConnectionLost("connection is closed")
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._timer = loop.call_later(REQUEST_TIMEOUT, self._timed_out)
        self._transport.writelines(parts)
        return await self._waiter

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()


# ----------------------------------------------------------------------------- measuring


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Run:
    """One measured load run against one server."""

    target: str
    mode: str  # "closed" or "open"
    load: str  # "64 conns" or "300/s"
    latencies: list[float] = field(default_factory=list)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    failures: collections.Counter[str] = field(default_factory=collections.Counter)
    elapsed: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    note: str = ""

    @property
    def ok(self) -> int:
        return self.statuses[202]

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s != 202) + sum(self.failures.values())

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def quantile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def row(self) -> str:
        def ms(x: float) -> str:
            return f"{x * 1000:8.1f}"

        server = f"{self.server_cpu / self.elapsed * 100:5.0f}%" if self.elapsed else "    -"
        client = f"{self.client_cpu / self.elapsed * 100:5.0f}%" if self.elapsed else "    -"
        return (
            f"{self.target:<22} {self.mode:<6} {self.load:>9} {self.rate:9.0f} "
            f"{ms(self.quantile(0.5))} {ms(self.quantile(0.99))} {ms(self.quantile(1.0))} "
            f"{self.errors:6d} {server} {client}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "mode": self.mode,
            "load": self.load,
            "deliveries_per_s": round(self.rate, 1),
            "accepted": self.ok,
            "p50_ms": round(self.quantile(0.5) * 1000, 2),
            "p99_ms": round(self.quantile(0.99) * 1000, 2),
            "max_ms": round(self.quantile(1.0) * 1000, 2),
            "errors": self.errors,
            "statuses": dict(self.statuses),
            "failures": dict(self.failures),
            "seconds": round(self.elapsed, 2),
            "server_cpu_pct": round(self.server_cpu / self.elapsed * 100, 1) if self.elapsed else 0,
            "client_cpu_pct": round(self.client_cpu / self.elapsed * 100, 1) if self.elapsed else 0,
        }


HEADER = (
    f"{'target':<22} {'mode':<6} {'load':>9} {'deliv/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'max ms':>8} {'errors':>6} {'srvCPU':>6} {'genCPU':>6}"
)


class Recorder:
    """Collects answers; remembers every delivery id that was answered 202."""

    def __init__(self) -> None:
        self.accepted: list[str] = []

    def record(
        self, run: Run | None, delivery: str, status: int | None, failure: str | None, lat: float
    ) -> None:
        if status == 202:
            self.accepted.append(delivery)
        if run is None:
            return
        if failure is not None:
            run.failures[failure] += 1
            return
        assert status is not None
        run.statuses[status] += 1
        run.latencies.append(lat)


async def _send(conn: HttpConnection, parts: list[bytes]) -> tuple[int | None, str | None]:
    try:
        return await conn.request(parts), None
    except TimeoutError:
        return None, "timeout"
    except (ConnectionLost, OSError) as exc:
        return None, type(exc).__name__


async def closed_loop(
    port: int,
    source: RequestSource,
    recorder: Recorder,
    run: Run | None,
    *,
    connections: int,
    warmup: float,
    duration: float,
    server_pid: int | None,
) -> None:
    """`connections` keep-alive connections, each sending its next request on each answer.

    Requests started during the first `warmup` seconds are stored but not measured."""
    loop = asyncio.get_running_loop()
    start = clock()
    measure_from = start + warmup
    deadline = measure_from + duration
    marks: dict[str, float] = {}

    def mark_start() -> None:
        marks["server"] = process_cpu(server_pid) if server_pid else 0.0
        marks["client"] = own_cpu()
        marks["t"] = clock()

    loop.call_later(warmup, mark_start)
    last_done = [measure_from]

    async def one_connection() -> None:
        conn: HttpConnection | None = None
        try:
            while clock() < deadline:
                if conn is None or conn.closed:
                    try:
                        conn = await HttpConnection.open(port)
                    except OSError as exc:
                        if run is not None and clock() >= measure_from:
                            run.failures[f"connect:{type(exc).__name__}"] += 1
                        await asyncio.sleep(0.05)
                        continue
                delivery, parts = source.take()
                sent = clock()
                status, failure = await _send(conn, parts)
                done = clock()
                measured = run if sent >= measure_from else None
                recorder.record(measured, delivery, status, failure, done - sent)
                if measured is not None:
                    last_done[0] = max(last_done[0], done)
        finally:
            if conn is not None:
                conn.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    if run is not None:
        if "t" not in marks:  # the run was shorter than its warmup
            mark_start()
        run.elapsed = max(last_done[0], deadline) - marks["t"]
        run.server_cpu = (process_cpu(server_pid) if server_pid else 0.0) - marks["server"]
        run.client_cpu = own_cpu() - marks["client"]


async def open_loop(
    port: int,
    source: RequestSource,
    recorder: Recorder,
    run: Run,
    *,
    rate: float,
    duration: float,
    connections: int,
    server_pid: int | None,
) -> None:
    """Requests scheduled at a fixed rate over a pool of keep-alive connections.

    Latency is measured from each request's scheduled time, so time spent waiting for a free
    connection (the server falling behind) counts, as it would for GitHub."""
    idle: asyncio.Queue[HttpConnection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await HttpConnection.open(port))
    total = int(rate * duration)
    tasks: set[asyncio.Task[None]] = set()

    async def one(scheduled: float) -> None:
        conn = await idle.get()
        if conn.closed:
            try:
                conn = await HttpConnection.open(port)
            except OSError as exc:
                run.failures[f"connect:{type(exc).__name__}"] += 1
                idle.put_nowait(conn)
                return
        delivery, parts = source.take()
        status, failure = await _send(conn, parts)
        recorder.record(run, delivery, status, failure, clock() - scheduled)
        idle.put_nowait(conn)

    server0 = process_cpu(server_pid) if server_pid else 0.0
    client0 = own_cpu()
    t0 = clock() + 0.01
    sent = 0
    while sent < total:
        due = min(total, int((clock() - t0) * rate) + 1)
        while sent < due:
            task = asyncio.create_task(one(t0 + sent / rate))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.sleep(max(0.0, t0 + sent / rate - clock()))
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 5)
        for task in pending:
            task.cancel()
            run.failures["unfinished"] += 1
    run.elapsed = max(duration, clock() - t0)
    run.server_cpu = (process_cpu(server_pid) if server_pid else 0.0) - server0
    run.client_cpu = own_cpu() - client0
    while not idle.empty():
        idle.get_nowait().close()


# ----------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    data: Path

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


def start_server(
    name: str, cmd: list[str], env: dict[str, str], workdir: Path, port: int
) -> Server:
    data = workdir / name
    data.mkdir()
    log = data / "server.log"
    with log.open("wb") as out:
        # cwd is the temp dir: a developer's .env in the repo must not change the run.
        proc = subprocess.Popen(
            cmd, env=env, cwd=data, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = Server(name, proc, port, log, data)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"{name} not ready after 60 s:\n{server.log_tail()}")


def clean_env() -> dict[str, str]:
    """This process's environment without anything that would point the app elsewhere."""
    drop = ("GITHUB_", "BACKEND_REVIEW_", "ANTHROPIC_", "LINEAR_", "DATABASE_URL")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def serve_command() -> list[str]:
    script = Path(sys.executable).parent / "backend-review"
    if script.exists():
        return [str(script), "serve", "--host", "127.0.0.1"]
    return [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1"]


def start_ours(workdir: Path, name: str, worker: int, log_level: str) -> Server:
    port = free_port()
    env = clean_env() | {
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "BACKEND_REVIEW_DATA_DIR": str(workdir / name),
        "BACKEND_REVIEW_PORT": str(port),
        "BACKEND_REVIEW_LOG_LEVEL": log_level,
        "BACKEND_REVIEW_LOG_FORMAT": "json",
        "BACKEND_REVIEW_WORKER_CONCURRENCY": str(worker),
    }
    return start_server(name, [*serve_command(), "--port", str(port)], env, workdir, port)


def start_bare(workdir: Path) -> Server:
    port = free_port()
    env = clean_env() | {"GITHUB_WEBHOOK_SECRET": SECRET}
    db = workdir / "bare" / "bare.db"
    cmd = [sys.executable, str(BENCH / "bare_app.py"), "--port", str(port), "--db", str(db)]
    return start_server("bare", cmd, env, workdir, port)


def start_trivial(workdir: Path) -> Server:
    port = free_port()
    cmd = [sys.executable, str(BENCH / "trivial_server.py"), "--port", str(port)]
    return start_server("trivial", cmd, clean_env(), workdir, port)


# ----------------------------------------------------------------------------- checks


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def check_ours(db: Path, accepted: Sequence[str]) -> tuple[bool, str]:
    """Every delivery answered 202 is stored, with at least one job of its own."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        stored: set[str] = set()
        with_job: set[str] = set()
        for chunk in _chunks(accepted):
            marks = ",".join("?" * len(chunk))
            stored.update(
                r[0]
                for r in conn.execute(f"SELECT id FROM deliveries WHERE id IN ({marks})", chunk)  # noqa: S608
            )
            with_job.update(
                r[0]
                for r in conn.execute(
                    f"SELECT DISTINCT delivery_id FROM jobs WHERE delivery_id IN ({marks})",  # noqa: S608
                    chunk,
                )
            )
        states = dict(conn.execute("SELECT status, count(*) FROM jobs GROUP BY status").fetchall())
    finally:
        conn.close()
    missing = len(set(accepted) - stored)
    jobless = len(set(accepted) - with_job)
    ok = missing == 0 and jobless == 0
    detail = (
        f"{len(accepted)} answered 202; {missing} missing from deliveries, {jobless} without a "
        f"job; jobs by state: {', '.join(f'{k} {v}' for k, v in sorted(states.items()))}"
    )
    return ok, detail


def check_bare(db: Path, accepted: Sequence[str]) -> tuple[bool, str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        stored = 0
        for chunk in _chunks(accepted):
            marks = ",".join("?" * len(chunk))
            row = conn.execute(
                f"SELECT count(*) FROM deliveries WHERE id IN ({marks})",  # noqa: S608
                chunk,
            ).fetchone()
            stored += int(row[0])
    finally:
        conn.close()
    return stored == len(accepted), f"{len(accepted)} answered 202; {stored} stored"


# ----------------------------------------------------------------------------- phases


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    loadavg = ""
    with contextlib.suppress(OSError):
        loadavg = ", load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return f"{os.cpu_count()} CPUs ({model}), Python {sys.version.split()[0]}{loadavg}"


@dataclass
class Plan:
    duration: float
    concurrency: int
    rate: float
    warmup: float
    prs: int
    ceiling_seconds: float
    log_level: str


async def drive(
    server: Server, plan: Plan, label: str, *, closed: bool = True, opened: bool = True
) -> tuple[list[Run], Recorder]:
    templates = build_templates(server.port, plan.prs)
    source = RequestSource(templates)
    recorder = Recorder()
    runs: list[Run] = []
    pid = server.proc.pid
    if closed:
        run = Run(label, "closed", f"{plan.concurrency} conn")
        await closed_loop(
            server.port,
            source,
            recorder,
            run,
            connections=plan.concurrency,
            warmup=plan.warmup,
            duration=plan.duration,
            server_pid=pid,
        )
        runs.append(run)
        print(run.row(), flush=True)
    if opened:
        # A short settle (and warm-up when it runs alone) before the fixed-rate run.
        await closed_loop(
            server.port,
            source,
            recorder,
            None,
            connections=4,
            warmup=0.0,
            duration=0.5 if closed else plan.warmup,
            server_pid=None,
        )
        await asyncio.sleep(0.5)
        run = Run(label, "open", f"{plan.rate:g}/s")
        await open_loop(
            server.port,
            source,
            recorder,
            run,
            rate=plan.rate,
            duration=plan.duration,
            connections=plan.concurrency,
            server_pid=pid,
        )
        runs.append(run)
        print(run.row(), flush=True)
    return runs, recorder


async def benchmark(plan: Plan, workdir: Path, only: set[str]) -> dict[str, Any]:
    results: dict[str, Any] = {"runs": [], "checks": {}}
    all_runs: list[Run] = []
    print(f"machine: {machine()}", flush=True)
    print(
        f"load: body {len(pull_request_body(1)):,} bytes, {plan.prs} PRs, {plan.duration:g} s per "
        f"run after {plan.warmup:g} s warm-up; serve log level {plan.log_level}",
        flush=True,
    )
    print(HEADER, flush=True)

    if "ceiling" in only:
        trivial = start_trivial(workdir)
        try:
            ceiling_plan = Plan(**{**plan.__dict__, "duration": plan.ceiling_seconds})
            runs, _ = await drive(trivial, ceiling_plan, "generator ceiling", opened=False)
            all_runs += runs
        finally:
            trivial.kill(signal.SIGTERM)

    if "bare" in only:
        bare = start_bare(workdir)
        try:
            runs, recorder = await drive(bare, plan, "bare FastAPI+SQLite")
            all_runs += runs
        finally:
            bare.kill(signal.SIGKILL)
        ok, detail = check_bare(bare.data / "bare.db", recorder.accepted)
        results["checks"]["bare"] = {"ok": ok, "detail": detail}
        print(f"  check bare: {'OK' if ok else 'FAILED'}: {detail}", flush=True)

    for worker, key in ((0, "off"), (2, "on")):
        if key not in only:
            continue
        name = f"ours-worker-{key}"
        ours = start_ours(workdir, name, worker, plan.log_level)
        try:
            runs, recorder = await drive(ours, plan, f"serve, worker {key}")
            all_runs += runs
        finally:
            # SIGKILL, not a drain: what the check finds was committed before its 202.
            ours.kill(signal.SIGKILL)
        ok, detail = check_ours(ours.data / "backend-review.db", recorder.accepted)
        results["checks"][name] = {"ok": ok, "detail": detail}
        print(f"  check {name} (after SIGKILL): {'OK' if ok else 'FAILED'}: {detail}", flush=True)
        if any(r.errors for r in runs):
            print(f"  {name} log tail:\n{ours.log_tail()}", flush=True)

    results["runs"] = [r.as_dict() for r in all_runs]
    summarize(all_runs, plan, results)
    return results


def summarize(runs: list[Run], plan: Plan, results: dict[str, Any]) -> None:
    def find(target: str, mode: str) -> Run | None:
        return next((r for r in runs if r.target == target and r.mode == mode), None)

    print("\nsummary")
    ceiling = find("generator ceiling", "closed")
    bare = find("bare FastAPI+SQLite", "closed")
    if ceiling:
        print(f"  generator ceiling: {ceiling.rate:,.0f} requests/s ({ceiling.load})")
    targets: dict[str, Any] = {}
    for key in ("off", "on"):
        closed = find(f"serve, worker {key}", "closed")
        opened = find(f"serve, worker {key}", "open")
        if closed and bare and bare.rate:
            ratio = closed.rate / bare.rate
            print(
                f"  worker {key}: {closed.rate:,.0f}/s closed loop = {ratio:.2f}x the bare app "
                f"({bare.rate:,.0f}/s); target >= 0.50x and >= 1,700/s (floor 500/s): "
                f"{'met' if ratio >= 0.5 and closed.rate >= 1700 else 'MISSED'}"
            )
            targets[f"ratio_worker_{key}"] = round(ratio, 3)
        if opened:
            p99 = opened.quantile(0.99) * 1000
            verdict = "met" if p99 <= 50 and opened.errors == 0 else "MISSED"
            if key == "off":
                verdict = "reference only: the target is with reviews running"
            print(
                f"  worker {key}: p99 {p99:.1f} ms at {opened.load} open loop "
                f"(target <= 50 ms with reviews running): {verdict}"
            )
            targets[f"p99_ms_open_worker_{key}"] = round(p99, 2)
    if ceiling and bare:
        busiest = max((r.rate for r in runs if r.target != "generator ceiling"), default=0.0)
        print(
            f"  generator headroom: ceiling {ceiling.rate:,.0f}/s vs fastest server "
            f"{busiest:,.0f}/s ({ceiling.rate / busiest if busiest else 0:.1f}x)"
        )
    failed = [k for k, v in results["checks"].items() if not v["ok"]]
    print(f"  durability checks: {'all OK' if not failed else 'FAILED: ' + ', '.join(failed)}")
    results["targets"] = targets


# ----------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Webhook intake benchmark: backend-review serve vs a bare FastAPI app."
    )
    parser.add_argument("--duration", type=float, help="seconds per measured run (default 10)")
    parser.add_argument("--concurrency", type=int, default=64, help="closed-loop connections")
    parser.add_argument("--rate", type=float, default=300.0, help="open-loop deliveries/s")
    parser.add_argument("--prs", type=int, default=300, help="distinct PR numbers to cycle")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds each")
    parser.add_argument(
        "--only",
        default="ceiling,bare,off,on",
        help="comma-separated subset of: ceiling, bare, off, on (default all)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="BACKEND_REVIEW_LOG_LEVEL for our server (default info, as deployed)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, databases)")
    return parser.parse_args(argv)


def _runner() -> Callable[[Any], Any]:
    try:
        import uvloop

        return uvloop.run
    except ImportError:
        return asyncio.run


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    duration = args.duration or (3.0 if args.quick else 10.0)
    plan = Plan(
        duration=duration,
        concurrency=args.concurrency,
        rate=args.rate,
        warmup=0.5 if args.quick else 1.0,
        prs=args.prs,
        ceiling_seconds=min(duration, 3.0),
        log_level=args.log_level,
    )
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    workdir = Path(tempfile.mkdtemp(prefix="backend-review-bench-"))
    try:
        results = _runner()(benchmark(plan, workdir, only))
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["plan"] = plan.__dict__ | {"cpus": os.cpu_count()}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(v["ok"] for v in results["checks"].values()) else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
