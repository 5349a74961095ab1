"""`serve` stopped by a signal: SIGTERM ends it with 0 after the graceful shutdown (as `worker`
does), Ctrl-C with KeyboardInterrupt (exit 130). uvicorn raised SIGTERM again on the way out,
so the process died of it (143 in a shell)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import pytest
import uvicorn

from app.cli import startup


async def nothing(scope: object, receive: object, send: object) -> None:
    return None


@pytest.fixture
def server() -> startup._Server:
    return startup._Server(uvicorn.Config(nothing))


@pytest.fixture
def sigterm_seen() -> Iterator[list[int]]:
    """SIGTERM's handler outside the server: it records instead of ending the test run."""
    seen: list[int] = []

    def record(sig: int, frame: FrameType | None) -> None:
        seen.append(sig)

    previous = signal.signal(signal.SIGTERM, record)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_sigterm_that_stopped_the_server_is_not_raised_again(
    server: startup._Server, sigterm_seen: list[int]
) -> None:
    with server.capture_signals():
        signal.raise_signal(signal.SIGTERM)
        assert server.should_exit, "the graceful shutdown starts"
    assert sigterm_seen == [], "the process then ends with 0, not by SIGTERM"
    signal.raise_signal(signal.SIGTERM)
    assert sigterm_seen == [signal.SIGTERM], "the handler from before is back"


def ctrl_c(server: startup._Server) -> None:
    with server.capture_signals():
        signal.raise_signal(signal.SIGINT)


def test_ctrl_c_still_ends_as_keyboard_interrupt(server: startup._Server) -> None:
    with pytest.raises(KeyboardInterrupt):
        ctrl_c(server)
    assert server.should_exit
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
