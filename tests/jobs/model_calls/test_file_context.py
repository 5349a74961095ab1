"""The review with whole files: the model sees each hunk in its function while the budget
allows, the hunks alone when it does not, and what could not be read is missing context."""

from __future__ import annotations

import re

from app.jobs.model_calls import run_review
from app.review.file_context import FileContext, FileText
from app.review.request import ReviewRequest
from tests.fakes.anthropic_api import FakeAnthropic, tool_answer
from tests.jobs.model_calls import (
    LEDGER,
    answer,
    ledger_only,
    limits,
    request,
    review,
    small_persona,
)

LEDGER_HEAD = "\n".join(
    [
        *[f"# ledger line {n}" for n in range(1, 9)],
        "def post_entry(entry):",  # 9
        "    validate(entry)",
        "    db.add(entry)",
        "    db.flush()",
        "    return entry",
        "",
        "",
        *[f"# filler {n}" for n in range(16, 38)],
        "",
        "",
        "def reverse(entry):",  # 40
        "    undo = entry.reversed()",
        "    db.add(undo)",
        "    audit(undo)",
        "    return undo",
        "",
    ]
)
FILES = FileContext.of([FileText(LEDGER, LEDGER_HEAD, None)])
HEAD_LINE = re.compile(r"^ +\d+ =", re.MULTILINE)


def _user(fake: FakeAnthropic) -> str:
    content = fake.bodies[0]["messages"][0]["content"]
    return content if isinstance(content, str) else "".join(b["text"] for b in content)


async def test_the_model_sees_the_hunks_in_their_functions_and_the_outline() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(answer()))
    await review(fake, request(ledger_only(), files=FILES))
    user = _user(fake)
    assert "[in def post_entry; unchanged lines of the head file marked =]" in user
    assert "    9 =def post_entry(entry):" in user
    assert "outline of the file at the head commit:" in user
    assert "def reverse (lines 40-44)" in user
    system = "".join(b["text"] for b in fake.bodies[0]["system"])
    assert "Names defined elsewhere exist unless this change removes them" in system


async def _outcome(req: ReviewRequest, budget: int) -> tuple[str, str]:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(answer()))
    result = await review(fake, req, call_input_tokens=4_000, review_tokens=budget)
    return result.outcome, _user(fake) if fake.bodies else ""


async def test_a_tight_budget_drops_the_code_around_never_the_diff() -> None:
    plain = request(ledger_only(), persona=small_persona())
    rich = request(ledger_only(), persona=small_persona(), files=FILES)
    low, high = 1_000, 40_000  # the least review budget the hunks alone fit in
    while low < high:
        mid = (low + high) // 2
        if (await _outcome(plain, mid))[0] == "complete":
            high = mid
        else:
            low = mid + 1
    outcome, user = await _outcome(rich, low)
    assert outcome == "complete"
    assert "@@ -40,4 +41,5 @@" in user
    assert not HEAD_LINE.search(user)
    _, roomy = await _outcome(rich, 400_000)
    assert HEAD_LINE.search(roomy)


async def test_what_could_not_be_read_is_missing_context() -> None:
    note = "whole files could not be read from GitHub (GitHub answered 502); hunks only"
    req = request(ledger_only(), files=FileContext.of([], [note]))
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(answer()))
    with_model = await review(fake, req)
    assert note in with_model.plan.summary_body
    rules_only = await run_review(req, None, limits())
    assert f"> Missing context: {note}" in rules_only.plan.summary_body


async def test_the_code_around_may_at_most_double_the_review_s_tokens() -> None:
    long = "x" * 900
    head = "\n".join(
        [
            "def post_entry(entry):",
            *[f"    a_{n} = '{long}'" for n in range(2, 10)],
            "    validate(entry)",  # 10
            "    db.add(entry)",
            "    db.flush()",
            "    return entry",
            "",
            "",
            *[f"    b_{n} = '{long}'" for n in range(16, 41)],
            "    undo = entry.reversed()",  # 41
            "    db.add(undo)",
            "    audit(undo)",
            "    return undo",
            "",
            *[f"    c_{n} = '{long}'" for n in range(46, 90)],
        ]
    )
    req = request(
        ledger_only(), persona=small_persona(), files=FileContext.of([FileText(LEDGER, head, None)])
    )
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(answer()))
    await review(fake, req)  # the default budgets: room for all of it, but not at that price
    user = _user(fake)
    assert "@@ -40,4 +41,5 @@" in user
    assert not HEAD_LINE.search(user)  # 45 lines of 900 characters: more than double
