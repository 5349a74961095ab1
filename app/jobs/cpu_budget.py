"""One review's CPU work, run where it cannot stall the service, under one wall-clock budget.

The review job makes a `ReviewCpu` per review: every CPU step of that review (parsing the diff,
the rules, planning the model calls and building their prompts, building the plan) goes to the
process pool with what is left of the budget. The CLI, which has no event loop to protect,
uses `InlineCpu`: the same steps, in its own thread, without a budget.

Building the final plan gets a grace period on top (`PLAN_GRACE`): when the rules ran out the
budget, what they found is still published, and the check fails with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

from app.jobs.cpu_pool import CpuPool, Outcome, OverBudget

T = TypeVar("T")
R = TypeVar("R")

PLAN_GRACE = 10.0  # seconds for the last step (the plan), over what is left of the budget


class CpuRunner(Protocol):
    """Where a review's CPU steps run. `seconds`: the budget (None: unbounded)."""

    @property
    def seconds(self) -> float | None: ...

    async def stream(self, fn: Callable[..., Iterator[T]], *args: Any) -> Outcome[T]:
        """The generator function's items; `finished` False when the budget ran out."""
        ...

    async def run(self, fn: Callable[..., R], *args: Any) -> R:
        """`fn(*args)`; `OverBudget` when the budget runs out."""
        ...

    async def finish(self, fn: Callable[..., R], *args: Any) -> R:
        """`run` with `PLAN_GRACE` more seconds: for the step that publishes what was found."""
        ...


class InlineCpu:
    """In the caller's thread, no budget (the CLI; `BACKEND_REVIEW_CPU_PROCESSES=0`)."""

    seconds: float | None = None

    async def stream(self, fn: Callable[..., Iterator[T]], *args: Any) -> Outcome[T]:
        return Outcome(list(fn(*args)))

    async def run(self, fn: Callable[..., R], *args: Any) -> R:
        return fn(*args)

    async def finish(self, fn: Callable[..., R], *args: Any) -> R:
        return fn(*args)


class ReviewCpu:
    """In `pool`'s processes, all steps together within `seconds` of wall-clock time (the time
    between steps, the model's calls and GitHub's, does not count)."""

    def __init__(
        self,
        pool: CpuPool,
        seconds: float,
        *,
        grace: float = PLAN_GRACE,
    ) -> None:
        self._pool = pool
        self.seconds = seconds
        self._grace = grace
        self.spent = 0.0

    def left(self) -> float:
        return max(0.0, self.seconds - self.spent)

    async def stream(self, fn: Callable[..., Iterator[T]], *args: Any) -> Outcome[T]:
        outcome, _ = await self._call(fn, args, streaming=True, budget=self.left())
        return outcome

    async def run(self, fn: Callable[..., R], *args: Any) -> R:
        return await self._value(fn, args, self.left())

    async def finish(self, fn: Callable[..., R], *args: Any) -> R:
        return await self._value(fn, args, self.left() + self._grace)

    async def _value(self, fn: Callable[..., R], args: tuple[Any, ...], budget: float) -> R:
        outcome, value = await self._call(fn, args, streaming=False, budget=budget)
        if not outcome.finished:
            raise OverBudget(outcome, self.seconds)
        return value  # type: ignore[no-any-return]

    async def _call(
        self, fn: Callable[..., Any], args: tuple[Any, ...], *, streaming: bool, budget: float
    ) -> tuple[Outcome[Any], Any]:
        # Only the time a step had a process counts: not a wait for a free one, nor the
        # model's calls and GitHub's between steps.
        outcome, value = await self._pool.call(fn, args, streaming=streaming, budget=budget)
        self.spent += outcome.seconds
        return outcome, value
