"""Webhook intake under an unauthenticated flood: server memory, and whether GitHub still gets in.

Starts `backend-review serve` itself (a subprocess, temp data dir, a free port on 127.0.0.1,
worker off), warms it with signed deliveries, measures its resident memory at rest, then for
`--duration` seconds:

- 48 (`--flooders`) connections post 25 MiB bodies as fast as the server takes them, each
  starting over as soon as it is answered or cut off (a sustained flood, not one wave);
- signed `pull_request` deliveries (~25 KB, as GitHub sends them) arrive at `--rate` per second,
  each on its own connection, each given GitHub's 10 s;

sampling the server's RSS (/proc/PID/status) every 50 ms. Two kinds of flood:

- `forged`: headers well-formed, a `sha256=` signature that cannot match: the server has to read
  (and spool) the body to find out;
- `unsigned`: no signature header at all: refused from the headers.

Prints, per kind: RSS at rest and at peak, how the flood was answered, and the signed
deliveries' outcomes and acknowledgement latency (p50/p99/max). Only loopback addresses; every
loop is bounded by the duration or a count.

    .venv/bin/python bench/intake_flood.py                 # both kinds, 15 s each (~1 minute)
    .venv/bin/python bench/intake_flood.py --kinds forged --duration 5
    .venv/bin/python bench/intake_flood.py --source /path/to/other/checkout   # compare a version
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import hmac
import itertools
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from payload import pull_request_body  # type: ignore[import-not-found,unused-ignore]

REPO = Path(__file__).resolve().parent.parent
SECRET = "bench-webhook-secret-not-for-production"  # noqa: S105 - a test value
_SERIALS = itertools.count(1)  # each delivery's body its own (see payload.pull_request_body_start)
MiB = 1024 * 1024
GITHUB_TIMEOUT = 10.0
CHUNK = 256 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@contextmanager
def server(source: Path, env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """`backend-review serve` from `source`; yields (port, pid)."""
    data = Path(tempfile.mkdtemp(prefix="bench-flood-"))
    port = free_port()
    full_env = {
        **os.environ,
        "PYTHONPATH": str(source),
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "BACKEND_REVIEW_DATA_DIR": str(data),
        "BACKEND_REVIEW_HOST": "127.0.0.1",
        "BACKEND_REVIEW_PORT": str(port),
        "BACKEND_REVIEW_WORKER_CONCURRENCY": "0",
        "BACKEND_REVIEW_RECOVER_ON_START": "false",
        "BACKEND_REVIEW_LOG_LEVEL": "error",
        "TMPDIR": str(data),
        **env,
    }
    full_env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        env=full_env,
        cwd=source,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):  # bounded: 30 s
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not become ready")
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)


def signed_request(port: int, number: int, serial: int) -> bytes:
    body = pull_request_body(number, action="synchronize", serial=serial)
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    head = (
        "POST /webhooks/github HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        "X-GitHub-Event: pull_request\r\n"
        f"X-GitHub-Delivery: {uuid.uuid4()}\r\n"
        f"X-Hub-Signature-256: sha256={signature}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def flood_head(port: int, kind: str, size: int) -> bytes:
    signature = f"X-Hub-Signature-256: sha256={'0' * 64}\r\n" if kind == "forged" else ""
    return (
        "POST /webhooks/github HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        "X-GitHub-Event: pull_request\r\n"
        f"X-GitHub-Delivery: {uuid.uuid4()}\r\n"
        f"{signature}"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()


async def status_of(reader: asyncio.StreamReader) -> int:
    line = await reader.readline()
    parts = line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0


@dataclass
class Tally:
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    latencies: list[float] = field(default_factory=list)
    bytes_sent: int = 0


async def flooder(port: int, kind: str, body: memoryview, until: float, tally: Tally) -> None:
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            tally.outcomes["connect failed"] += 1
            await asyncio.sleep(0.05)
            continue
        answer = asyncio.create_task(status_of(reader))
        try:
            writer.write(flood_head(port, kind, len(body)))
            for start in range(0, len(body), CHUNK):
                if answer.done() or time.monotonic() >= until:
                    break
                writer.write(body[start : start + CHUNK])
                await writer.drain()
                tally.bytes_sent += CHUNK
            remaining = max(0.1, until - time.monotonic() + 1)
            status = await asyncio.wait_for(answer, remaining)
            tally.outcomes[str(status) if status else "closed"] += 1
        except TimeoutError:
            tally.outcomes["no answer"] += 1
        except ConnectionError:
            # Cut off while sending: the answer may still be in the socket's buffer.
            try:
                status = await asyncio.wait_for(answer, 1)
            except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
                status = 0
            tally.outcomes[str(status) if status else "closed"] += 1
        finally:
            answer.cancel()
            writer.close()


def flood_process(
    port: int, kind: str, flooders: int, until: float, out: multiprocessing.Queue[Tally]
) -> None:
    """The flood, in a process of its own: its sending must not delay the signed deliveries'
    clock in this one."""

    async def run() -> Tally:
        body = memoryview(b" " * (25 * MiB))
        tally = Tally()
        await asyncio.gather(*(flooder(port, kind, body, until, tally) for _ in range(flooders)))
        return tally

    out.put(asyncio.run(run()))


async def deliverer(port: int, rate: float, until: float, tally: Tally) -> None:
    async def one(number: int, serial: int) -> None:
        started = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            # A body of its own per delivery: the endpoint answers one it stored 200 (a replay).
            writer.write(signed_request(port, number, serial))
            status = await asyncio.wait_for(status_of(reader), GITHUB_TIMEOUT)
            writer.close()
            tally.outcomes[str(status)] += 1
            tally.latencies.append(time.monotonic() - started)
        except (OSError, TimeoutError) as exc:
            tally.outcomes[type(exc).__name__] += 1

    sent: list[asyncio.Task[None]] = []
    number = 0
    next_at = time.monotonic()
    while next_at < until:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        number += 1
        sent.append(asyncio.create_task(one(number % 300 + 1, next(_SERIALS))))
        next_at += 1 / rate
    await asyncio.gather(*sent)


async def sample_rss(pid: int, until: float, samples: list[int]) -> None:
    while time.monotonic() < until:
        samples.append(rss_bytes(pid))
        await asyncio.sleep(0.05)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run_kind(args: argparse.Namespace, kind: str) -> dict[str, object]:
    with server(args.source, dict(e.split("=", 1) for e in args.env)) as (port, pid):
        warm = Tally()
        await deliverer(port, 50, time.monotonic() + 1, warm)
        await asyncio.sleep(1)
        rest: list[int] = []
        await sample_rss(pid, time.monotonic() + 1, rest)
        at_rest = sorted(rest)[len(rest) // 2]
        until = time.monotonic() + args.duration
        signed, peak = Tally(), list[int]()
        # Spawned, not forked: a fork would inherit this process's running event loop.
        spawn = multiprocessing.get_context("spawn")
        results: multiprocessing.Queue[Tally] = spawn.Queue()
        flood_proc = spawn.Process(
            target=flood_process, args=(port, kind, args.flooders, until, results)
        )
        flood_proc.start()
        await asyncio.gather(
            deliverer(port, args.rate, until, signed),
            sample_rss(pid, until + 1, peak),
        )
        flood = results.get(timeout=60)
        flood_proc.join(timeout=10)
    lat = [x * 1000 for x in signed.latencies]
    return {
        "kind": kind,
        "rss_rest_mb": round(at_rest / 1e6, 1),
        "rss_peak_mb": round(max(peak) / 1e6, 1),
        "rss_rise_mb": round((max(peak) - at_rest) / 1e6, 1),
        "flood_answers": dict(flood.outcomes),
        "flood_mb_sent": round(flood.bytes_sent / 1e6),
        "signed": dict(signed.outcomes),
        "signed_p50_ms": round(percentile(lat, 50), 1),
        "signed_p99_ms": round(percentile(lat, 99), 1),
        "signed_max_ms": round(max(lat, default=float("nan")), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="forged,unsigned")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--flooders", type=int, default=48)
    parser.add_argument("--rate", type=float, default=20.0, help="signed deliveries per second")
    parser.add_argument("--source", type=Path, default=REPO, help="checkout to run the server from")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    args = parser.parse_args()
    args.duration = min(args.duration, 300.0)
    args.flooders = min(args.flooders, 256)
    results = [asyncio.run(run_kind(args, kind)) for kind in args.kinds.split(",")]
    for result in results:
        print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
