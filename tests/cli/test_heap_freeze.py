"""`serve` and `worker` freeze what start-up left alive before they take work, so that the
garbage collector's full passes no longer walk it (0.1 s and more of a held event loop per
large review before; docs/performance.md#responsiveness-during-a-worst-case-review)."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
import weakref
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from app import runtime
from app.cli import main as cli_main
from app.cli import startup
from app.settings import Settings

pytestmark = pytest.mark.usefixtures("isolated_env")


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Whatever a test froze goes back to the collector's oldest generation afterwards."""
    assert gc.get_freeze_count() == 0
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_garbage_is_collected_first_and_what_lives_is_frozen() -> None:
    garbage = Node()
    garbage.other = Node()
    garbage.other.other = garbage  # a cycle: only the collector frees it
    gone = weakref.ref(garbage)
    del garbage
    alive = Node()
    alive.other = alive

    frozen = runtime.freeze_start_up_heap()

    assert gone() is None  # collected, not frozen for ever
    assert frozen == gc.get_freeze_count() > 0
    assert gc.is_tracked(alive)
    assert not any(o is alive for o in gc.get_objects())  # out of every generation's pass


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the command did, in order: the freeze recorded instead of done."""
    done: list[str] = []
    monkeypatch.setattr(cli_main, "_setup_logging", lambda settings: None)
    monkeypatch.setattr(runtime, "freeze_start_up_heap", lambda: done.append("freeze") or 0)
    return done


def test_serve_freezes_the_heap_after_building_the_app_and_before_serving(
    monkeypatch: pytest.MonkeyPatch, steps: list[str]
) -> None:
    def create_app(settings: Settings) -> object:
        steps.append("create_app")
        return object()

    def serve(app: object, sock: socket.socket, **options: Any) -> int:
        steps.append("serve")
        sock.close()  # as the real one does
        return 0

    monkeypatch.setattr("app.web.app.create_app", create_app)
    monkeypatch.setattr(startup, "check_github_key", lambda settings: None)
    monkeypatch.setattr(startup, "ready", lambda settings: socket.socket())
    monkeypatch.setattr(startup, "serve", serve)

    assert cli_main.main(["serve"]) == 0
    assert steps == ["create_app", "freeze", "serve"]


def test_worker_freezes_the_heap_before_its_runtime_takes_jobs(
    monkeypatch: pytest.MonkeyPatch, steps: list[str]
) -> None:
    async def stop() -> None:
        steps.append("stop")

    async def start(settings: Settings, **kwargs: Any) -> SimpleNamespace:
        steps.append("start")
        # The worker waits for SIGTERM; its handler is installed before the loop runs again.
        asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGTERM)
        return SimpleNamespace(stop=stop)

    monkeypatch.setattr(runtime, "start", start)

    assert cli_main.main(["worker"]) == 0
    assert steps == ["freeze", "start", "stop"]
