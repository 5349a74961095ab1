"""Cache hits: the first part goes alone, the others once its response has begun, and the
cached prefix (tools, then system) is the same for every review of a repository."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

from app.review.prompt import TicketText
from tests.conftest import wait_for
from tests.fakes.anthropic_api import Answer, FakeAnthropic, error, overloaded, tool_answer
from tests.jobs.model_calls import answer, ledger_only, many_files, request, review, small_persona

TICKET = TicketText(
    identifier="ENG-7",
    title="Ledger entries",
    url="https://linear.app/acme/issue/ENG-7/ledger",
    text="Every refund is written to the ledger.",
    criteria=("A refund writes one ledger entry",),
)


def _slow(_: dict[str, Any]) -> Answer:
    # 50 ms before the response begins (the prompt is read), 200 ms from then to its end: long
    # enough to see who waited for what.
    return replace(tool_answer(answer()), delay=0.05, generation=0.2)


def _three_parts() -> dict[str, Any]:
    return {"req": request(many_files(6), persona=small_persona()), "call_input_tokens": 4_000}


async def test_the_first_part_goes_alone_and_the_others_once_its_response_began() -> None:
    fake = FakeAnthropic()
    # The first response, once begun, ends only when both others have arrived: they must not
    # wait for it to end (nor may they arrive before it began).
    others_arrived = asyncio.Event()
    arrivals = 0

    def respond(_: dict[str, Any]) -> Answer:
        nonlocal arrivals
        arrivals += 1
        if arrivals == 1:
            return replace(tool_answer(answer()), delay=0.05, hold=others_arrived)
        if arrivals == 3:
            others_arrived.set()
        return tool_answer(answer())

    fake.respond_with(respond)
    setup = _three_parts()

    result = await review(fake, setup["req"], call_input_tokens=setup["call_input_tokens"])

    assert result.outcome == "complete"
    assert len(fake.requests) == 3
    order = fake.events
    began = order.index(("begin", 0))
    ended = order.index(("end", 0))
    for part in (1, 2):
        arrived = order.index(("arrive", part))
        # Not before the first response began (it would write the prefix again), and not
        # after it ended either: the others do not wait for the first answer to finish.
        assert began < arrived < ended


async def test_the_others_go_anyway_when_the_first_part_fails_before_it_begins() -> None:
    fake = FakeAnthropic()
    fake.enqueue(error(400, "invalid_request_error", "messages.0: something in this part"))
    fake.respond_with(lambda _: tool_answer(answer()))
    setup = _three_parts()

    result = await review(fake, setup["req"], call_input_tokens=setup["call_input_tokens"])

    assert len(fake.requests) == 3
    assert ("begin", 0) not in fake.events
    assert result.part_outcomes == ("rejected", "ok", "ok")
    assert result.outcome == "partial"


async def test_parts_after_the_first_read_the_prefix_it_wrote() -> None:
    fake = FakeAnthropic(measure_usage=True)
    fake.respond_with(_slow)
    setup = _three_parts()

    result = await review(fake, setup["req"], call_input_tokens=setup["call_input_tokens"])

    first, *others = (fake.cache_uses[i] for i in range(3))
    prefix = first.cache_creation_input_tokens
    assert prefix > 1024
    assert first.cache_read_input_tokens == 0
    assert all(
        (u.cache_read_input_tokens, u.cache_creation_input_tokens) == (prefix, 0) for u in others
    )
    assert (result.usage.cache_read_tokens, result.usage.cache_write_tokens) == (2 * prefix, prefix)


def _prefix(body: dict[str, Any]) -> str:
    return json.dumps({"tools": body["tools"], "system": body["system"]}, sort_keys=True)


async def test_reviews_of_one_repository_share_the_prefix_with_or_without_criteria() -> None:
    fake = FakeAnthropic(measure_usage=True)
    fake.respond_with(lambda _: tool_answer(answer() | {"criteria": []}))

    await review(fake, request(ledger_only()))
    await review(fake, request(ledger_only(), tickets=(TICKET,)))

    plain, with_criteria = fake.bodies
    assert "A refund writes one ledger entry" in with_criteria["messages"][0]["content"]
    # Byte-identical tools and system: the criteria are asked for in the user turn only.
    assert _prefix(plain) == _prefix(with_criteria)
    read, written = fake.cache_uses[1], fake.cache_uses[0]
    assert read.cache_read_input_tokens == written.cache_creation_input_tokens
    assert read.cache_read_input_tokens > 1024


async def test_the_others_wait_no_longer_than_the_first_parts_first_attempt() -> None:
    fake = FakeAnthropic()
    fake.enqueue(overloaded())  # the first part's first attempt: retried after a backoff
    fake.respond_with(_slow)
    setup = _three_parts()

    result = await review(fake, setup["req"], call_input_tokens=setup["call_input_tokens"])

    assert len(fake.requests) == 4
    assert result.part_outcomes == ("retried", "ok", "ok")
    # The other two parts did not wait for the first part's retry to begin.
    first_begin = next(i for i, (what, _) in enumerate(fake.events) if what == "begin")
    arrivals = [i for i, (what, _) in enumerate(fake.events) if what == "arrive"]
    assert len([i for i in arrivals if i < first_begin]) == 4


async def test_a_cancelled_review_leaves_no_part_calling_the_model() -> None:
    """A job cancelled or a worker stopping mid-review: every part's call ends with it."""
    fake = FakeAnthropic()
    never = asyncio.Event()
    fake.respond_with(lambda _: replace(tool_answer(answer()), hold=never))
    setup = _three_parts()
    running = asyncio.create_task(
        review(fake, setup["req"], call_input_tokens=setup["call_input_tokens"])
    )
    await wait_for(lambda: len(fake.requests) == 3)  # all three parts wait on their answers
    before = asyncio.all_tasks() - {asyncio.current_task(), running}
    assert before  # the parts' tasks

    running.cancel()
    await asyncio.gather(running, return_exceptions=True)

    assert all(task.done() for task in before)
