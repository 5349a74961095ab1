"""The CPU pool: results, items streamed before an overrun, a killed and replaced process,
errors, and an event loop that keeps running while a child spins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.jobs.cpu_pool import CpuPool, CpuTaskError, OverBudget
from tests.jobs import cpu_tasks


@pytest.fixture
async def pool() -> AsyncIterator[CpuPool]:
    built = CpuPool(1, preload=("tests.jobs.cpu_tasks",))
    try:
        yield built
    finally:
        await built.aclose()


async def test_a_call_returns_its_value_and_a_stream_its_items(pool: CpuPool) -> None:
    assert await pool.run(cpu_tasks.add, 2, 3, budget=30) == 5
    outcome = await pool.stream(cpu_tasks.count_to, 4, budget=30)
    assert (outcome.items, outcome.finished, outcome.stopped) == ([0, 1, 2, 3], True, None)


async def test_an_overrun_keeps_what_finished_and_replaces_the_process(pool: CpuPool) -> None:
    before = await pool.run(cpu_tasks.pid, budget=30)

    outcome = await pool.stream(cpu_tasks.some_then_spin, 3, budget=0.5)

    assert (outcome.items, outcome.finished, outcome.stopped) == ([0, 1, 2], False, "budget")
    assert pool.replaced == 1
    after = await pool.run(cpu_tasks.pid, budget=30)  # the pool works on, in a new process
    assert after != before
    assert before not in pool.pids


async def test_run_raises_over_budget(pool: CpuPool) -> None:
    with pytest.raises(OverBudget) as err:
        await pool.run(cpu_tasks.spin, budget=0.3)
    assert err.value.outcome.stopped == "budget"
    assert "ran past its budget of 0.3 s" in str(err.value)
    assert await pool.run(cpu_tasks.add, 1, 1, budget=30) == 2


async def test_an_exception_is_reported_and_the_process_kept(pool: CpuPool) -> None:
    before = await pool.run(cpu_tasks.pid, budget=30)
    with pytest.raises(CpuTaskError) as err:
        await pool.run(cpu_tasks.fail, "bad input", budget=30)
    assert (err.value.kind, str(err.value)) == ("ValueError", "ValueError: bad input")
    assert await pool.run(cpu_tasks.pid, budget=30) == before
    assert pool.replaced == 0


async def test_a_process_that_dies_is_replaced(pool: CpuPool) -> None:
    with pytest.raises(OverBudget) as err:
        await pool.run(cpu_tasks.die, budget=30)
    assert err.value.outcome.stopped == "crashed"
    assert await pool.run(cpu_tasks.add, 2, 2, budget=30) == 4


async def test_the_event_loop_runs_while_a_child_spins(pool: CpuPool) -> None:
    order: list[str] = []

    async def other_work() -> None:
        for _ in range(5):
            await asyncio.sleep(0.01)
        order.append("other work done")

    async def runaway() -> None:
        await pool.stream(cpu_tasks.some_then_spin, 0, budget=1.0)
        order.append("runaway stopped")

    await pool.start()
    await asyncio.gather(runaway(), other_work())

    assert order == ["other work done", "runaway stopped"]


async def test_a_cancelled_call_kills_its_process(pool: CpuPool) -> None:
    before = await pool.run(cpu_tasks.pid, budget=30)
    task = asyncio.create_task(pool.run(cpu_tasks.spin, budget=60))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await pool.run(cpu_tasks.pid, budget=30) != before
    assert pool.replaced == 1


async def test_a_closed_pool_refuses_work() -> None:
    pool = CpuPool(1)
    await pool.aclose()
    with pytest.raises(Exception, match="closed"):
        await pool.run(cpu_tasks.add, 1, 2, budget=1)


def test_a_pool_needs_a_process() -> None:
    with pytest.raises(ValueError, match="at least one"):
        CpuPool(0)
