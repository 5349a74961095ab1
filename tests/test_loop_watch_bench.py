"""`bench.responsiveness --watch`: the watcher it loads into the server sees a loop held by a
callback and a full collection, only in a `serve` process, and the bench keeps what fell within
the review."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.responsiveness import watch_env, watched

# Blocks its loop for 0.2 s in a callback, then collects with a heap large enough to take time.
_PROGRAM = """
import asyncio, gc, time

async def main():
    await asyncio.sleep(0.05)
    time.sleep(0.2)
    await asyncio.sleep(0.05)
    heap = [[i] for i in range(300_000)]
    gc.collect()
    await asyncio.sleep(0.05)

asyncio.run(main())
"""


def run_program(tmp_path: Path, command: str) -> list[dict[str, Any]]:
    events = tmp_path / "events.jsonl"
    env = {**os.environ, **watch_env(events)}
    subprocess.run(
        [sys.executable, "-c", _PROGRAM, command], env=env, check=True, timeout=60, cwd=tmp_path
    )
    if not events.exists():
        return []
    return [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]


def test_a_held_loop_and_a_full_collection_are_recorded_in_serve(tmp_path: Path) -> None:
    events = run_program(tmp_path, "serve")

    late = [e for e in events if e["kind"] == "lag"]
    assert any(e["ms"] >= 150 for e in late)  # the 0.2 s hold
    collections = [e for e in events if e["kind"] == "gc" and e["generation"] == 2]
    assert any(e["thread"] == "MainThread" for e in collections)


def test_other_processes_are_left_alone(tmp_path: Path) -> None:
    assert run_program(tmp_path, "worker") == []


def test_only_what_fell_within_the_review_is_kept(tmp_path: Path) -> None:
    start = time.time()
    lines = [
        {"at": start - 1, "kind": "lag", "ms": 500.0},
        {"at": start + 0.25, "kind": "lag", "ms": 120.0},
        {"at": start + 0.26, "kind": "gc", "generation": 2, "ms": 125.0, "thread": "cpu-pool_0"},
        {"at": start + 9, "kind": "lag", "ms": 80.0},
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in lines), encoding="utf-8")

    assert watched(events, start, start + 5) == {
        "loop_late_ms": [{"at": 0.25, "ms": 120.0}],
        "collections": [{"at": 0.26, "generation": 2, "ms": 125.0, "thread": "cpu-pool_0"}],
    }
    assert watched(tmp_path / "none.jsonl", start, start + 5) == {
        "loop_late_ms": [],
        "collections": [],
    }
