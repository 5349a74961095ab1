"""Does `serve` stay responsive while a worst-case review runs?

Starts the fake GitHub (over loopback HTTP, a thread of this process) and a real
`python -m app serve` (uvicorn, its own process), opens a pull request whose review is as
expensive as we know how to make it, delivers its `pull_request.opened`, and meanwhile a probe
process sends, on a fixed schedule (open loop: a stall is not hidden), `GET /healthz` and signed
webhook deliveries (`pull_request.labeled`: verified, stored, acknowledged 202). It reports the
p50/p99/max of both while the review runs, how long the review took, and how its check run
ended.

    .venv/bin/python -m bench.responsiveness                   # the hostile case, pool on
    .venv/bin/python -m bench.responsiveness --inline          # the same, reviews on the loop
    .venv/bin/python -m bench.responsiveness --case large --budget 60

Cases:
  hostile  one added line holding `sk-` repeated (`--size`, default 40,000): the secrets rule's
           key pattern is quadratic on it (7.4 s at 20,000 on this machine when measured)
  large    280 files of 60 added lines each (under GitHub's 300-file / 20,000-line diff limit)
  idle     no review: the same probes for `--duration` seconds, the baseline

`--watch` also says where the server's event loop stalled while the review ran: it loads
`bench/loop_watch/sitecustomize.py` into the server, which records every time the loop woke up
over 10 ms late and every garbage collection of generation 1 or 2 over 5 ms (and the thread it
ran on); the result lists those that fell between the delivery and the completed check.

Before measuring, one small review warms the server up (the first GitHub calls import
githubkit's models: one 81 ms stall of the event loop measured on a cold process); `--cold`
skips it.
The model is off (no API key): the review is the rules, the plan and the publishing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.diff_scale import make_diff
from tests.e2e import WEBHOOK_SECRET, e2e_world, pull_request_event
from tests.fakes.github_payloads import sign


def new_file(path: str, lines: Sequence[str]) -> str:
    head = (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{len(lines)} @@\n"
    )
    return head + "".join(f"+{line}\n" for line in lines)


def hostile_diff(size: int) -> str:
    return new_file("app/settings_local.py", ["STRIPE_KEY = '" + "sk-" * size + "'"])


WARM_UP = new_file("app/api/health.py", ["def health():", "    return {'ok': True}"])


def case_diff(case: str, size: int) -> str:
    if case == "hostile":
        return hostile_diff(size)
    return make_diff(280, 60)


# --- the probe (its own process, so its timing does not share a GIL with the fakes) ----------


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: Sequence[float], errors: int) -> dict[str, Any]:
    return {
        "n": len(values),
        "errors": errors,
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "max_ms": round(max(values, default=float("nan")) * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else None,
    }


async def probe(url: str, rate: float, payload: bytes) -> dict[str, Any]:
    """Until stdin is closed: `rate` health checks and `rate` deliveries per second, each
    timed from when it was scheduled."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_eof, daemon=True).start()
    results: dict[str, list[float]] = {"healthz": [], "webhook": []}
    errors = {"healthz": 0, "webhook": 0}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=30, limits=limits, trust_env=False) as client:

        async def one(kind: str, scheduled: float) -> None:
            try:
                if kind == "healthz":
                    response = await client.get(f"{url}/healthz")
                    ok = response.status_code == 200
                else:
                    headers = {
                        "Content-Type": "application/json",
                        "X-GitHub-Event": "pull_request",
                        "X-GitHub-Delivery": str(uuid.uuid4()),
                        "X-Hub-Signature-256": sign(WEBHOOK_SECRET, payload),
                    }
                    response = await client.post(
                        f"{url}/webhooks/github", content=payload, headers=headers
                    )
                    ok = response.status_code == 202
            except httpx.HTTPError:
                ok = False
            if ok:
                results[kind].append(time.perf_counter() - scheduled)
            else:
                errors[kind] += 1

        tasks: list[asyncio.Task[None]] = []
        print("ready", file=sys.stderr, flush=True)
        start = time.perf_counter()
        tick = 0
        while not stop.is_set():
            scheduled = start + tick / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            for kind in ("healthz", "webhook"):
                tasks.append(asyncio.create_task(one(kind, scheduled)))
            tick += 1
        await asyncio.gather(*tasks)
    return {kind: summary(results[kind], errors[kind]) for kind in results}


def probe_main(args: argparse.Namespace) -> int:
    payload = Path(args.payload).read_bytes()
    result = asyncio.run(probe(args.probe, args.rate, payload))
    print(json.dumps(result))
    return 0


# --- the run ------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-responsive-") as tmp, e2e_world(Path(tmp)) as w:
        env = {
            "ANTHROPIC_API_KEY": "",  # rules only: the model is not what is measured
            "BACKEND_REVIEW_WORKER_CONCURRENCY": "2",
            "BACKEND_REVIEW_RECOVER_ON_START": "false",
            "BACKEND_REVIEW_REVIEW_CPU_SECONDS": str(args.budget),
            "BACKEND_REVIEW_CPU_PROCESSES": "0" if args.inline else "2",
        }
        watch_file = Path(tmp) / "loop_watch.jsonl"
        if args.watch:
            env |= watch_env(watch_file)
        server = w.start_server(**env)
        if not args.cold:
            warm = w.pull(WARM_UP)
            w.deliver("pull_request", pull_request_event(warm, "opened"))
            w.wait_for("the warm-up review", lambda: w.completed_check(warm.head_sha), timeout=120)
        pr = w.pull(case_diff(args.case, args.size))
        ignored = pull_request_event(pr, "labeled")
        payload_file = Path(tmp) / "labeled.json"
        payload_file.write_bytes(json.dumps(ignored).encode())
        probe_proc = subprocess.Popen(
            [
                sys.executable, "-m", "bench.responsiveness", "--probe", server.url,
                "--rate", str(args.rate), "--payload", str(payload_file),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "NO_PROXY": "127.0.0.1"},
        )  # fmt: skip
        assert probe_proc.stderr is not None
        probe_proc.stderr.readline()  # "ready": the probe's start-up is not measured
        time.sleep(0.5)
        started = time.monotonic()
        window = [time.time()]
        if args.case == "idle":
            time.sleep(args.duration)
            check = None
        else:
            response = w.deliver("pull_request", pull_request_event(pr, "opened"))
            assert response.status_code == 202, response.text
            check = w.wait_for(
                "a completed check", lambda: w.completed_check(pr.head_sha), timeout=args.timeout
            )
        took = time.monotonic() - started
        window.append(time.time())
        time.sleep(0.5)
        out, _ = probe_proc.communicate(b"", timeout=60)
        latencies = json.loads(out)
        return {
            "case": args.case,
            "size": args.size,
            "mode": "inline (event loop)" if args.inline else "process pool",
            "cold": args.cold,
            "budget_s": args.budget,
            "review_s": round(took, 2),
            "check": check and {"conclusion": check.conclusion, "title": check.output.get("title")},
            **latencies,
            **({"loop_watch": watched(watch_file, *window)} if args.watch else {}),
        }


def watch_env(events: Path) -> dict[str, str]:
    """What makes the server load bench/loop_watch/sitecustomize.py, writing to `events`."""
    folder = str(Path(__file__).with_name("loop_watch"))
    path = os.pathsep.join(p for p in (folder, os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path, "BENCH_LOOP_WATCH": str(events)}


def watched(events: Path, start: float, end: float) -> dict[str, list[dict[str, Any]]]:
    """The loop's stalls and the slow collections recorded from `start` to `end` (seconds
    from `start` in `at`)."""
    found: dict[str, list[dict[str, Any]]] = {"lag": [], "gc": []}
    lines = events.read_text(encoding="utf-8").splitlines() if events.exists() else []
    for event in map(json.loads, lines):
        if start <= event["at"] <= end:
            found[event.pop("kind")].append({**event, "at": round(event["at"] - start, 2)})
    return {"loop_late_ms": found["lag"], "collections": found["gc"]}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=("hostile", "large", "idle"), default="hostile")
    parser.add_argument("--duration", type=float, default=10.0, help="idle: seconds measured")
    parser.add_argument("--size", type=int, default=40_000, help="hostile: repetitions of sk-")
    parser.add_argument("--cold", action="store_true", help="no warm-up review first")
    parser.add_argument("--budget", type=float, default=10.0, help="review CPU budget, s")
    parser.add_argument("--inline", action="store_true", help="run the core on the loop")
    parser.add_argument("--rate", type=float, default=20.0, help="probes per second, each kind")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after, s")
    parser.add_argument("--json", help="also write the result here")
    parser.add_argument("--watch", action="store_true", help="record the server's loop stalls")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--payload", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.probe:
        return probe_main(args)
    result = run(args)
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
