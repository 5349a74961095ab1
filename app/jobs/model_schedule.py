"""The scheduling of a review's parts: the first part goes alone and the others once its
response has begun, when the API has cached the prompt's prefix they share (sent together,
every part would pay to write that entry and none would read it); then up to
`limits.concurrency` at a time, under one deadline. Once the API refuses the key or the model,
the parts not yet sent are not sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from app.jobs.model_part import Expect, PartResult, Spend, review_part
from app.llm import ModelRequest, ReviewModel, Usage
from app.review.budget import ModelLimits


async def run_parts(
    model: ReviewModel,
    requests: Sequence[ModelRequest],
    expect: Expect,
    limits: ModelLimits,
    spend: Spend,
    progress: Callable[[str], None] | None,
    deadline: float,  # a `time.monotonic()` instant
) -> list[PartResult]:
    gate = asyncio.Semaphore(limits.concurrency)
    rejected: list[str] = []  # once the API refuses us (bad key, bad model), stop asking
    reviewed = 0

    def report(index: int, result: PartResult) -> None:
        # Only a part the model answered in full counts as reviewed, so a progress line never
        # says "reviewed" before the notice that the model was unavailable.
        nonlocal reviewed
        if progress is None:
            return
        if result.kind == "ok":
            reviewed += 1
            progress(f"model: {reviewed}/{len(requests)} part(s) reviewed")
        else:
            what = "partly reviewed" if result.answer is not None else "not reviewed"
            progress(f"model: part {index + 1} of {len(requests)} {what}")

    # Set when the first part's response begins, when an attempt of it fails before that, or
    # when the part ends however it ends: the others never wait longer than one attempt.
    first_began = asyncio.Event()

    async def one(index: int, req: ModelRequest) -> PartResult:
        if index > 0:
            await first_began.wait()
        async with gate:
            if rejected:
                result = PartResult(None, rejected[0], "unavailable", Usage(), 0)
            else:
                began = first_began if index == 0 else None
                result = await review_part(
                    model, req, expect, deadline, spend, index, limits, began
                )
        if result.kind == "rejected" and result.failure:
            rejected.append(result.failure)
        report(index, result)
        return result

    if not requests:
        return []
    tasks = [asyncio.create_task(one(i, req)) for i, req in enumerate(requests)]
    tasks[0].add_done_callback(lambda _: first_began.set())  # failed before it began, too
    try:
        # The adapter keeps to the deadline; this is the backstop if anything does not.
        finished, _pending = await asyncio.wait(tasks, timeout=limits.deadline_seconds + 10)
    finally:
        # Past the backstop, or this review cancelled (its job cancelled, the worker stopping):
        # no part may go on calling the paid model after the review is over.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    results: list[PartResult] = []
    for task in tasks:
        if task in finished and not task.cancelled() and task.exception() is None:
            results.append(task.result())
        elif task in finished and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]  # a bug of ours: let it be seen
        else:
            results.append(
                PartResult(None, "the review's deadline passed", "unavailable", Usage(), 0)
            )
    return results
