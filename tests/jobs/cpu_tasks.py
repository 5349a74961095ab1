"""Functions the CPU pool tests run in its worker processes (module-level: pickled by name)."""

from __future__ import annotations

import os
from collections.abc import Iterator


def add(a: int, b: int) -> int:
    return a + b


def pid() -> int:
    return os.getpid()


def count_to(n: int) -> Iterator[int]:
    yield from range(n)


def some_then_spin(n: int) -> Iterator[int]:
    """`n` items, then a runaway loop: what a backtracking regex looks like from outside."""
    yield from range(n)
    while True:
        pass


def spin() -> int:
    while True:
        pass


def fail(message: str) -> int:
    raise ValueError(message)


def die() -> int:
    os._exit(3)
