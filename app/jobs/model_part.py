"""One part of a review sent to the model: what its answer may hold, its share of the review's
token budget, and its answer loop. The loop asks once; an answer cut off at the output limit is
asked again, once, with a larger limit (its complete findings kept); what is still missing (the
summary, or an answer through the tool) gets one repair turn, if the budget has room for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from app.llm import LLMError, LLMRejected, ModelReply, ModelRequest, Repair, ReviewModel, Usage
from app.review.budget import ModelLimits
from app.review.model_answer import (
    TOOL_NAME,
    AnswerError,
    ModelAnswer,
    parse_answer,
    parse_cut_answer,
)

log = logging.getLogger(__name__)


class Spend:
    """The review's token budget while its calls run: what the answers so far cost, plus what
    the parts not yet answered are expected to cost. A repair turn is a second call the plan
    did not budget for: it is made only if it still fits."""

    def __init__(self, limit: int, expected: Sequence[int]) -> None:
        self.limit = limit
        self.spent = 0
        self._pending = list(expected)

    def answered(self, part: int, usage: Usage) -> None:
        self.spent += usage.total
        self._pending[part] = 0

    def allows(self, tokens: int) -> bool:
        return self.spent + sum(self._pending) + tokens <= self.limit


@dataclass(frozen=True, slots=True)
class Expect:
    """What a valid answer may contain: the rule ids, and whether criteria verdicts are due."""

    rule_ids: tuple[str, ...]
    criteria: bool


@dataclass(frozen=True, slots=True)
class PartResult:
    answer: ModelAnswer | None
    failure: str | None  # why the part did not finish (`answer` keeps what was valid)
    # rejected: refused for the whole review (key, model); refused: this request only;
    # cut: the answer stopped at the output limit (its complete findings are in `answer`)
    kind: Literal["ok", "unusable", "unavailable", "rejected", "refused", "cut"]
    usage: Usage
    calls: int


async def review_part(
    model: ReviewModel,
    request: ModelRequest,
    expect: Expect,
    deadline: float,
    spend: Spend,
    index: int,
    limits: ModelLimits,
    started: asyncio.Event | None = None,
) -> PartResult:
    """One part: its answer; if that was cut off at the output limit, one retry with a larger
    limit (the complete findings of the cut answer kept); one repair turn for what is still
    missing (the summary, or an answer through the tool)."""
    usage, calls = Usage(), 0
    repair: Repair | None = None
    kept: ModelAnswer | None = None  # what is valid so far, while a later call completes it
    larger: int | None = None  # the retry's output limit, once an answer was cut off
    for _ in range(3):
        try:
            reply = await model.review(
                replace(
                    request,
                    repair=repair,
                    max_output_tokens=larger or request.max_output_tokens,
                ),
                deadline=deadline,
                started=started,
            )
        except LLMRejected as exc:
            failure = f"the model API refused the request: {exc.reason}"
            kind: Literal["rejected", "refused"] = "rejected" if exc.fatal else "refused"
            return PartResult(kept, failure, kind, usage, calls + exc.attempts)
        except LLMError as exc:
            failure = f"the model was unavailable: {exc.reason}"
            return PartResult(kept, failure, "unavailable", usage, calls + exc.attempts)
        usage, calls = usage + reply.usage, calls + reply.attempts
        spend.answered(index, reply.usage)
        if reply.stop_reason == "refusal":
            # Final for this part: asking again is paid for and refused again.
            failure = "the model refused to review this part (stop reason: refusal)"
            return PartResult(kept, failure, "refused", usage, calls)
        if reply.stop_reason == "max_tokens":
            cut = parse_cut_answer(
                reply.tool_input, rule_ids=expect.rule_ids, criteria=expect.criteria
            )
            kept = cut if kept is None else kept.followed_by(cut)
            limit = (
                reply.output_limit
                or larger
                or request.max_output_tokens
                or limits.max_output_tokens
            )
            given_up = _cut_short(limit, limits, spend, reply, larger=larger, repair=repair)
            if given_up is not None:
                log.warning("model answer cut off at %d output tokens: %s", limit, given_up)
                return PartResult(kept, _kept_of(given_up, kept), "cut", usage, calls)
            larger, repair = _larger_limit(limit, limits), None
            continue
        got = _problems(reply, expect)
        if isinstance(got, ModelAnswer):
            if kept is not None:
                got = kept.followed_by(got)
            if got.summary is not None:
                return PartResult(got, None, "ok", usage, calls)
            if repair is not None:
                # The findings are kept, but a review without its summary did not finish.
                failure = "the model gave no valid summary, also after a repair turn"
                return PartResult(got, failure, "unusable", usage, calls)
            kept = got
            problems = [
                "summary: missing or invalid; your findings were kept: call the tool again "
                "with the summary (findings may be an empty list)",
                *got.summary_problems[:10],
            ]
        elif repair is not None:
            failure = "the model's answer was unusable, also after a repair turn"
            if kept is not None:
                failure = "the model's repair turn was unusable"
            return PartResult(kept, failure, "unusable", usage, calls)
        else:
            problems = got
        again = " after the repair turn" if repair else ""
        log.warning("model answer incomplete%s: %d problem(s)", again, len(problems))
        # The repair replays the request and the answer: about what both cost, once more.
        if not spend.allows(reply.usage.total + reply.usage.output_tokens):
            failure = "the model's answer was unusable, and the budget left no room to repair it"
            return PartResult(kept, failure, "unusable", usage, calls)
        repair = Repair(previous=reply, problems="\n".join(problems))
    return PartResult(kept, "the model's answer was unusable", "unusable", usage, calls)


def _larger_limit(limit: int, limits: ModelLimits) -> int:
    """The retry's output limit: twice the one reached, at most what the model can write."""
    return min(2 * limit, limits.output_ceiling or 2 * limit)


def _cut_short(
    limit: int,
    limits: ModelLimits,
    spend: Spend,
    reply: ModelReply,
    *,
    larger: int | None,
    repair: Repair | None,
) -> str | None:
    """Why an answer cut off at `limit` output tokens is not retried larger; None: it is.
    Only a part's first answer is: once, with twice the limit (at most the model's ceiling),
    if the review's token budget has room for it."""
    if repair is not None:
        return f"the model's repair turn was cut off at its output limit of {limit} tokens"
    cut = f"the model's answer was cut off at its output limit of {limit} tokens"
    if larger is not None:
        return f"{cut}, also on its one retry with a larger limit"
    larger = _larger_limit(limit, limits)
    if larger <= limit:
        return f"{cut}, the most this model can write"
    # The same request again, with room for a longer answer and the thinking sent beside it
    # (all within what the model can write).
    written = larger + limits.thinking_tokens
    if limits.output_ceiling is not None:
        written = min(written, limits.output_ceiling)
    if not spend.allows(reply.usage.total - reply.usage.output_tokens + written):
        return f"{cut}, and a retry with {larger} would not fit the review's token budget"
    return None


def _kept_of(failure: str, kept: ModelAnswer) -> str:
    n = len(kept.findings)
    return f"{failure}; its {n} complete finding(s) were kept" if n else failure


def _problems(reply: ModelReply, expect: Expect) -> ModelAnswer | list[str]:
    """The usable part of a reply, or what is missing for the repair turn to ask again."""
    if reply.tool_input is None:
        return [f"no call to {TOOL_NAME}: the review must be submitted through the tool"]
    try:
        return parse_answer(reply.tool_input, rule_ids=expect.rule_ids, criteria=expect.criteria)
    except AnswerError as exc:
        return exc.problems[:30]
