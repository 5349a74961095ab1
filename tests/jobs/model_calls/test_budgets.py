"""Large pull requests and token caps: chunks, concurrency, and an honest not-reviewed list."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from app.review.budget import MAX_LISTED_PATHS
from app.review.chunking import estimate_tokens
from app.review.diff import Diff, parse_diff
from app.review.findings import Source
from tests.fakes.anthropic_api import Answer, FakeAnthropic, tool_answer
from tests.jobs.model_calls import (
    answer,
    files_in,
    finding,
    ledger_only,
    many_files,
    request,
    review,
    small_persona,
)

PATHS = [f"app/services/s{i}.py" for i in range(12)]


def _one_finding_per_part(body: dict[str, Any]) -> Answer:
    """Answer each part with a finding on the first file it was shown."""
    first = files_in(body)[0]
    return tool_answer(
        answer(
            finding(
                path=first,
                lines="3",
                rule="data.every-write-is-in-transaction",
                category="data",
                severity="minor",
                title=f"On {first}",
            ),
            summary=f"Part with {first}.",
        )
    )


async def test_a_pr_over_one_call_is_split_reviewed_and_merged() -> None:
    fake = FakeAnthropic()
    fake.respond_with(_one_finding_per_part)

    result = await review(
        fake, request(many_files(12), persona=small_persona()), call_input_tokens=4_000
    )

    shown = [files_in(body) for body in fake.bodies]
    assert len(shown) > 2
    assert sorted(p for part in shown for p in part) == sorted(PATHS)  # each file once
    assert result.outcome == "complete"
    llm = [f for f in result.plan.findings if f.source is Source.LLM]
    assert sorted(f.where.path for f in llm) == sorted(part[0] for part in shown)
    assert result.plan.not_reviewed == []
    assert result.plan.conclusion == "success"
    assert f"Part 1/{len(shown)}:" in result.plan.summary_body
    assert result.calls == len(shown)
    assert result.usage.input_tokens == 1520 * len(shown)
    # Each part is told it is one of several, and which files the whole PR changes.
    assert "this is part 1. Files in other parts" in fake.bodies[0]["messages"][0]["content"]


async def test_past_the_review_budget_the_rest_is_listed_as_not_reviewed() -> None:
    fake = FakeAnthropic()
    fake.respond_with(_one_finding_per_part)

    result = await review(
        fake,
        request(many_files(12), persona=small_persona()),
        call_input_tokens=4_000,
        review_tokens=16_000,
    )

    shown = {p for body in fake.bodies for p in files_in(body)}
    not_reviewed = {n.path: n.reason for n in result.plan.not_reviewed}
    assert shown
    assert set(not_reviewed) == set(PATHS) - shown  # exactly what the model did not see
    assert all("token budget" in reason for reason in not_reviewed.values())
    assert result.outcome == "over-budget"
    assert result.plan.conclusion == "neutral"
    assert "over the review's token budget" in result.plan.check_title


async def test_a_hunk_no_call_can_hold_leaves_the_review_incomplete() -> None:
    # An author cannot hide a line in one huge hunk of code: the model never saw it, so the
    # review is not complete, whatever the rest said.
    fake = FakeAnthropic()
    fake.respond_with(lambda _: tool_answer(answer()))
    huge = many_files(1, lines=2_000, prefix="app/services/huge")
    diff = Diff(files=(*many_files(2).files, *huge.files))

    result = await review(fake, request(diff, persona=small_persona()), call_input_tokens=4_000)

    assert {n.path for n in result.plan.not_reviewed} == {"app/services/huge0.py"}
    assert result.plan.conclusion == "neutral"
    assert result.plan.check_title.startswith(
        "Review incomplete: the model could not see 1 changed code file(s), each with a hunk "
        "larger than one model call: app/services/huge0.py (split the change, or add the path "
        "to `ignore:` if it is generated)"
    )


def _huge(path: str, *, removed: bool = False) -> Diff:
    sign, header = ("-", "@@ -1,2000 +0,0 @@") if removed else ("+", "@@ -0,0 +1,2000 @@")
    body = "".join(f"{sign}value_{j} = compute({j})  # step {j} of the job\n" for j in range(2000))
    mode = "" if removed else "new file mode 100644\n"
    old = "a/" + path if removed else "/dev/null"
    return parse_diff(
        f"diff --git a/{path} b/{path}\n{mode}--- {old}\n+++ b/{path}\n{header}\n{body}"
    )


@pytest.mark.parametrize(
    "path",
    ["tests/fixtures/users.json", "api/openapi.json", "docs/api.md", "tests/test_big.py"],
)
async def test_a_huge_hunk_of_data_docs_or_tests_holds_nothing(path: str) -> None:
    # Listed as not reviewed, as before; a 2,000-line fixture is no reason to hold a review.
    fake = FakeAnthropic()
    fake.respond_with(lambda _: tool_answer(answer()))
    diff = Diff(files=(*ledger_only().files, *_huge(path).files))

    result = await review(fake, request(diff, persona=small_persona()), call_input_tokens=4_000)

    assert path in {n.path for n in result.plan.not_reviewed}
    assert result.plan.conclusion == "success"


async def test_a_huge_hunk_that_only_removes_code_holds_nothing() -> None:
    fake = FakeAnthropic()
    fake.respond_with(lambda _: tool_answer(answer()))
    gone = _huge("app/legacy.py", removed=True)
    diff = Diff(files=(*ledger_only().files, *gone.files))

    result = await review(fake, request(diff, persona=small_persona()), call_input_tokens=4_000)
    assert "app/legacy.py" in {n.path for n in result.plan.not_reviewed}

    assert result.plan.conclusion == "success"


async def test_a_spent_daily_budget_means_rules_only_and_no_call() -> None:
    fake = FakeAnthropic()

    result = await review(fake, tokens_left_today=0)

    assert fake.requests == []
    assert result.outcome == "over-budget"
    assert result.calls == 0
    assert "daily model budget is spent" in result.plan.summary_body
    assert result.plan.conclusion == "failure"  # the secret still blocks


async def test_what_is_left_of_the_daily_budget_caps_the_review() -> None:
    fake = FakeAnthropic()
    fake.respond_with(_one_finding_per_part)

    result = await review(
        fake,
        request(many_files(12), persona=small_persona()),
        call_input_tokens=4_000,
        tokens_left_today=16_000,
    )

    assert 0 < len(fake.requests) < 5
    assert result.outcome == "over-budget"
    assert len(result.plan.not_reviewed) > 0


async def test_parts_run_concurrently_up_to_the_bound() -> None:
    fake = FakeAnthropic()
    fake.respond_with(lambda body: _delayed(_one_finding_per_part(body)))
    inner = fake.handler
    flight = {"now": 0, "max": 0}

    async def counting(request: httpx2.Request) -> httpx2.Response:
        flight["now"] += 1
        flight["max"] = max(flight["max"], flight["now"])
        try:
            return await inner(request)
        finally:
            flight["now"] -= 1

    fake.handler = counting  # type: ignore[method-assign]

    result = await review(
        fake,
        request(many_files(12), persona=small_persona()),
        call_input_tokens=4_000,
        concurrency=2,
    )

    assert result.outcome == "complete"
    assert len(fake.requests) > 2
    assert flight["max"] == 2


def _delayed(answer: Answer) -> Answer:
    return Answer(status=answer.status, body=answer.body, headers=answer.headers, delay=0.05)


async def test_every_call_stays_within_its_budget_on_a_pr_of_many_files() -> None:
    fake = FakeAnthropic()
    fake.respond_with(lambda _: tool_answer(answer()))
    call_tokens = 8_000

    result = await review(
        fake,
        request(many_files(400, lines=3), persona=small_persona()),
        call_input_tokens=call_tokens,
    )

    assert result.outcome == "complete"
    assert len(fake.bodies) > 5
    for body in fake.bodies:
        text = "".join(b["text"] for b in body["system"]) + body["messages"][0]["content"]
        assert estimate_tokens(text) <= call_tokens
        listed = text.split("<<<BEGIN FILES ")[1].split("<<<END FILES")[0].splitlines()[1:]
        assert 0 < len(listed) <= MAX_LISTED_PATHS
        # Rule facts name only this call's files (tests-missing is on one of them, or none).
        shown = set(files_in(body))
        facts = text.split("<<<BEGIN RULE_FINDINGS ")
        if len(facts) > 1:
            for line in facts[1].split("<<<END RULE_FINDINGS")[0].splitlines()[1:]:
                assert line.split(" at ")[1].split(":")[0].rstrip() in shown


async def test_no_repair_turn_when_it_would_break_the_review_budget() -> None:
    fake = FakeAnthropic()
    # An unusable answer whose input alone was most of the review's budget (400k).
    fake.enqueue(tool_answer({"findings": "none"}, usage={"input_tokens": 300_000}))

    result = await review(fake, request(many_files(1), persona=small_persona()))

    assert len(fake.requests) == 1  # no second call
    assert result.outcome == "unusable"
    assert "no room to repair it" in result.plan.check_title
