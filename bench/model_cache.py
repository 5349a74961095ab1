"""Prompt-cache hits on a review in parts, and across two reviews of one repository.

    .venv/bin/python -m bench.model_cache              # default persona, 3 parts
    .venv/bin/python -m bench.model_cache --ttft 0.5 --generation 3
    .venv/bin/python -m bench.model_cache --model claude-haiku-4-5   # a 4,096-token minimum

The model is the fake Messages API over HTTP on 127.0.0.1 (`tests/fakes/anthropic_server.py`)
with `measure_usage`: it models the prompt cache as the API documents it (an entry is written
when a response begins and read by requests that arrive after that; 1,024 tokens at least for
Sonnet 4.6; tokens estimated at 4 bytes each) and reports input, cache-write and cache-read
tokens per call. The review runs through the real adapter (streamed calls) and `run_review`.

Figures: the share of the cached prefix's tokens (tools + system) read from the cache rather
than written or sent again, per review, and the input cost in base-input-token units (a write
costs 1.25, a read 0.1). "Before" replays what the code did before issue 14 on the same path:
every part sent at once, and a tool schema that had `criteria` only when a linked issue listed
acceptance criteria.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from anthropic import AsyncAnthropic

from app.jobs.model_calls import run_review
from app.jobs.usage import model_prices
from app.llm import AnthropicModel, ModelReply, ModelRequest, ReviewModel
from app.review.budget import ModelLimits
from app.review.prompt import TicketText
from app.review.prompt_text import CRITERIA_NOTE
from app.review.request import ReviewRequest
from tests.fakes.anthropic_api import FakeAnthropic, tool_answer
from tests.fakes.anthropic_cache import CacheUse
from tests.fakes.anthropic_server import AnthropicServer
from tests.jobs.model_calls import answer, many_files, request

TICKET = TicketText(
    identifier="ENG-42",
    title="Job steps",
    url="https://linear.app/acme/issue/ENG-42/job-steps",
    text="The job computes each step once.",
    criteria=("Every step is computed once", "A failed step is retried"),
)


class _AllAtOnce:
    """Before issue 14: the other parts did not wait for the first response to begin."""

    def __init__(self, inner: ReviewModel, *, old_schema: bool) -> None:
        self.model = inner.model
        self._inner = inner
        self._old_schema = old_schema

    async def review(
        self,
        request: ModelRequest,
        *,
        deadline: float | None = None,
        started: asyncio.Event | None = None,
    ) -> ModelReply:
        if started is not None:
            started.set()  # release the others at once
        if self._old_schema and CRITERIA_NOTE not in request.user:
            # The schema asked for criteria only when a TICKET block listed some.
            schema = dict(request.input_schema)
            schema["properties"] = {
                k: v for k, v in schema["properties"].items() if k != "criteria"
            }
            schema["required"] = [k for k in schema["required"] if k != "criteria"]
            request = replace(request, input_schema=schema)
        return await self._inner.review(request, deadline=deadline)


def _limits(call_input_tokens: int) -> ModelLimits:
    return ModelLimits(
        call_input_tokens=call_input_tokens,
        review_tokens=400_000,
        max_output_tokens=4_096,
        concurrency=3,
        deadline_seconds=600,
        tokens_left_today=None,
    )


def _reviews() -> Iterator[tuple[str, ReviewRequest]]:
    yield "PR 1 (6 files, no linked issue)", request(many_files(6, lines=120))
    yield (
        "PR 2 (another PR, a linked issue with criteria)",
        request(many_files(4, lines=120, prefix="app/jobs/step"), tickets=(TICKET,)),
    )


async def _run(
    server: AnthropicServer, *, before: bool, call_tokens: int, model_id: str
) -> list[str]:
    client = AsyncAnthropic(api_key=server.fake.api_key, base_url=server.base_url, max_retries=0)
    adapter = AnthropicModel(
        client, model=model_id, max_output_tokens=4_096, timeout_seconds=60, max_attempts=1
    )
    model: ReviewModel = _AllAtOnce(adapter, old_schema=True) if before else adapter
    lines = []
    try:
        for name, req in _reviews():
            seen = len(server.fake.requests)
            started = time.perf_counter()
            result = await run_review(req, model, _limits(call_tokens))
            seconds = time.perf_counter() - started
            uses = [server.fake.cache_uses[i] for i in range(seen, len(server.fake.requests))]
            dollars = _dollars(uses, model_id)
            lines.append(
                f"  {name}: {_figures(uses)}, {dollars}; {result.outcome}, {seconds:.2f} s"
            )
    finally:
        await adapter.aclose()
    return lines


def _figures(uses: list[CacheUse]) -> str:
    written = sum(u.cache_creation_input_tokens for u in uses)
    read = sum(u.cache_read_input_tokens for u in uses)
    plain = sum(u.input_tokens for u in uses)
    prefix = written + read
    share = read / prefix if prefix else 0.0
    cost = plain + 1.25 * written + 0.1 * read
    every = plain + prefix
    per_part = " ".join(
        f"[w{u.cache_creation_input_tokens} r{u.cache_read_input_tokens}]" for u in uses
    )
    return (
        f"{len(uses)} part(s) {per_part}, prefix read from cache {share:.0%}, "
        f"input cost {cost:,.0f} units for {every:,} tokens ({cost / every:.2f}x)"
    )


def _dollars(uses: list[CacheUse], model_id: str) -> str:
    """The input's price at the model's list prices (the capability table's)."""
    prices = model_prices(model_id)
    if prices is None:
        return "no list price"
    per_input, _output, per_read, per_write = prices
    dollars = (
        sum(u.input_tokens for u in uses) * per_input
        + sum(u.cache_creation_input_tokens for u in uses) * per_write
        + sum(u.cache_read_input_tokens for u in uses) * per_read
    ) / 1_000_000
    return f"input ${dollars:.4f} at {model_id}'s list prices"


def _answer(ttft: float, generation: float) -> Any:
    def respond(_: dict[str, Any]) -> Any:
        return replace(tool_answer(answer() | {"criteria": []}), delay=ttft, generation=generation)

    return respond


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ttft", type=float, default=0.2, help="seconds to the response start")
    parser.add_argument("--generation", type=float, default=1.0, help="seconds from start to end")
    parser.add_argument("--call-tokens", type=int, default=9_000, help="call_input_tokens")
    parser.add_argument("--model", default="claude-sonnet-4-6")
    args = parser.parse_args()
    for label, before in (("before (all parts at once, schema varies)", True), ("after", False)):
        fake = FakeAnthropic(measure_usage=True)
        fake.respond_with(_answer(args.ttft, args.generation))
        with AnthropicServer(fake) as server:
            run = _run(server, before=before, call_tokens=args.call_tokens, model_id=args.model)
            lines = asyncio.run(run)
        print(f"{label}:")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
