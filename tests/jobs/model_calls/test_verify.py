"""`model.verify: true`: one verification call per model finding that would block (issue 14,
item 1's optional part), against the fake Messages API answering by the request's tool."""

from __future__ import annotations

from typing import Any

from app.review.file_context import FileContext, FileText
from app.review.findings import Finding, Source
from app.review.model_answer import TOOL_NAME
from app.review.repo_config import ModelConfig, RepoConfig
from app.review.verify import VERIFY_TOOL
from tests.fakes.anthropic_api import Answer, FakeAnthropic, error, text_answer, tool_answer
from tests.jobs.model_calls import LEDGER, answer, finding, ledger_only, request, review
from tests.llm import Timeline

VERIFY = RepoConfig(model=ModelConfig(verify=True))


def sure(lines: str = "12", **extra: Any) -> dict[str, Any]:
    """A finding the evidence gate lets block: evidence, anchored, confidence 0.9."""
    return finding(
        path=LEDGER,
        lines=lines,
        confidence=0.9,
        failure_scenario="A refund of 0 writes a ledger row that balances nothing.",
        **extra,
    )


def by_tool(review_answer: Answer, verdict: Answer) -> Any:
    def respond(body: dict[str, Any]) -> Answer:
        return verdict if body["tools"][0]["name"] == VERIFY_TOOL else review_answer

    return respond


def verify_bodies(fake: FakeAnthropic) -> list[dict[str, Any]]:
    return [b for b in fake.bodies if b["tools"][0]["name"] == VERIFY_TOOL]


def user_text(body: dict[str, Any]) -> str:
    content = body["messages"][0]["content"]
    return content if isinstance(content, str) else "".join(b["text"] for b in content)


def llm_ids(result: Any) -> list[str]:
    return [f.id for f in result.plan.findings if f.source is Source.LLM]


async def test_off_by_default_no_verification_call_and_the_finding_blocks() -> None:
    fake = FakeAnthropic()
    fake.respond_with(by_tool(tool_answer(answer(sure())), error(500, "api_error", "no")))

    result = await review(fake, request(ledger_only()))

    assert [b["tools"][0]["name"] for b in fake.bodies] == [TOOL_NAME]
    assert (result.plan.blocking, result.plan.conclusion, result.plan.advisory) == (
        1,
        "failure",
        {},
    )


async def test_a_confirmed_finding_blocks_and_the_call_is_counted() -> None:
    fake = FakeAnthropic()
    verdict = tool_answer({"reason": "Line 12 writes the row unchecked.", "confirmed": True})
    fake.respond_with(by_tool(tool_answer(answer(sure())), verdict))

    result = await review(fake, request(ledger_only(), config=VERIFY))

    [body] = verify_bodies(fake)
    text = user_text(body)
    assert "Refund amount is not checked against the order total" in text
    assert "A refund of 0 writes a ledger row" in text
    assert f"FINDING on {LEDGER}, lines 12" in text
    # No whole file was gathered: the diff's hunk around the cited line is the context.
    assert "<<<BEGIN DIFF" in text
    assert body["tools"][0]["strict"] is True
    assert (result.plan.blocking, result.plan.conclusion, result.plan.advisory) == (
        1,
        "failure",
        {},
    )
    assert result.calls == 2
    assert result.usage.input_tokens == 2 * 1520


async def test_a_refuted_finding_is_advisory_with_the_reason_everywhere() -> None:
    fake = FakeAnthropic()
    verdict = tool_answer({"reason": "Line 11 returns early on a zero amount.", "confirmed": False})
    fake.respond_with(by_tool(tool_answer(answer(sure())), verdict))

    result = await review(fake, request(ledger_only(), config=VERIFY))

    [finding_id] = llm_ids(result)
    why = "verification did not confirm: Line 11 returns early on a zero amount."
    assert result.plan.advisory == {finding_id: why}
    assert result.plan.blocking == 0
    assert result.plan.conclusion == "success"
    assert why in result.plan.summary_body
    assert why in result.plan.check_summary
    assert result.outcome == "complete"


async def test_the_whole_file_is_the_context_where_it_was_gathered() -> None:
    fake = FakeAnthropic()
    verdict = tool_answer({"reason": "Confirmed on line 12.", "confirmed": True})
    fake.respond_with(by_tool(tool_answer(answer(sure())), verdict))
    head = "\n".join(f"line_{n} = {n}" for n in range(1, 201))
    files = FileContext.of([FileText(LEDGER, head=head, base=None)])

    await review(fake, request(ledger_only(), config=VERIFY, files=files))

    text = user_text(verify_bodies(fake)[0])
    assert "<<<BEGIN CODE" in text
    assert "   12 line_12 = 12" in text
    assert "   72 line_72 = 72" in text  # 60 lines on each side of the cited one
    assert "line_73 = 73" not in text


def unverified_notice(result: Any) -> str:
    [line] = [n for n in result.plan.summary_body.splitlines() if "Verification:" in n]
    return line


async def test_a_failed_verification_call_blocks_as_without_verification_and_says_so() -> None:
    # An outage must not read as a pass: only a refutation holds a finding back.
    fake = FakeAnthropic()
    refused = error(400, "invalid_request_error", "prompt is too long")
    fake.respond_with(by_tool(tool_answer(answer(sure())), refused))

    result = await review(fake, request(ledger_only(), config=VERIFY))

    [finding_id] = llm_ids(result)
    assert result.plan.advisory == {}
    assert (result.outcome, result.plan.blocking, result.plan.conclusion) == (
        "complete",
        1,
        "failure",
    )
    notice = unverified_notice(result)
    assert f"`{finding_id}` not verified: the model API refused the verification call" in notice
    assert notice.endswith("it blocks as it would without verification")


async def test_a_refusal_or_an_answer_that_is_no_verdict_still_blocks() -> None:
    for verdict, why in [
        (text_answer("", stop_reason="refusal"), "not verified: the model refused"),
        (tool_answer({"reason": "looks bad"}), "not verified: the verification answer was"),
        (text_answer("It is a real bug."), "not verified: the verification answer was"),
        # Talked out of it by the author's comment, citing no code: no verdict.
        (
            tool_answer({"reason": "A comment says it is validated upstream.", "confirmed": False}),
            "not verified: the verification answer was unusable (the refutation cites no line",
        ),
    ]:
        fake = FakeAnthropic()
        fake.respond_with(by_tool(tool_answer(answer(sure())), verdict))

        result = await review(fake, request(ledger_only(), config=VERIFY))

        assert result.plan.advisory == {}
        assert result.plan.blocking == 1
        assert why in unverified_notice(result)


async def test_no_room_left_in_the_daily_budget_leaves_the_finding_advisory_uncalled() -> None:
    fake = FakeAnthropic()
    # The review's own answer spends all but a few hundred tokens of what is left today.
    spent = tool_answer(answer(sure()), usage={"input_tokens": 29_000, "output_tokens": 500})
    fake.respond_with(by_tool(spent, error(500, "api_error", "must not be called")))

    result = await review(fake, request(ledger_only(), config=VERIFY), tokens_left_today=30_000)

    assert verify_bodies(fake) == []
    assert result.plan.advisory == {}
    assert "not verified: the review's token budget left no room" in unverified_notice(result)
    assert result.plan.conclusion == "failure"


async def test_at_most_five_are_verified_the_most_severe_first() -> None:
    fake = FakeAnthropic()
    found = [sure(lines=str(n), title=f"Ledger problem on line {n}") for n in range(10, 15)]
    found.append(sure(lines="15", title="Ledger corrupts balances", severity="critical"))
    verdict = tool_answer({"reason": "Confirmed.", "confirmed": True})
    fake.respond_with(by_tool(tool_answer(answer(*found)), verdict))

    result = await review(fake, request(ledger_only(), config=VERIFY))

    bodies = verify_bodies(fake)
    assert len(bodies) == 5
    assert any("Ledger corrupts balances" in user_text(b) for b in bodies)
    assert result.plan.blocking == 6  # the sixth, not verified, blocks as without verification
    assert result.plan.advisory == {}
    [left_out] = [f.id for f in result.plan.findings if f.title == "Ledger problem on line 14"]
    assert f"`{left_out}` not verified: only the 5 most severe" in unverified_notice(result)


async def test_a_finding_the_gate_holds_back_is_not_verified() -> None:
    fake = FakeAnthropic()
    guess = sure() | {"type": "question", "confidence": 0.2}
    fake.respond_with(by_tool(tool_answer(answer(guess)), error(500, "api_error", "no")))

    result = await review(fake, request(ledger_only(), config=VERIFY))

    assert verify_bodies(fake) == []
    assert list(result.plan.advisory.values()) == ["a question, not evidence"]


async def test_a_carried_finding_is_verified_again_when_nothing_goes_to_the_model() -> None:
    # What the last review's verification said is not remembered: a finding it refuted would
    # otherwise come back blocking on the next push that leaves its file alone.
    fake = FakeAnthropic()
    verdict = tool_answer({"reason": "Line 11 guards it.", "confirmed": False})
    fake.respond_with(by_tool(error(500, "api_error", "no review call expected"), verdict))
    carried = Finding.model_validate({**sure(), "source": "llm", "id": "br-000000000000"})

    result = await review(
        fake,
        request(ledger_only(), config=VERIFY, model_scope=frozenset(), carried=(carried,)),
    )

    assert [b["tools"][0]["name"] for b in fake.bodies] == [VERIFY_TOOL]
    assert list(result.plan.advisory.values()) == [
        "verification did not confirm: Line 11 guards it."
    ]
    assert result.plan.conclusion == "success"


async def test_a_carried_finding_keeps_the_last_reviews_verdict_without_a_call() -> None:
    # Its file is unchanged since the last review: a second opinion must not flip it.
    for said, blocks in [
        ({"reason": "Line 12 writes the row unchecked.", "confirmed": True}, True),
        ({"reason": "Line 11 returns early on a zero amount.", "confirmed": False}, False),
    ]:
        first = FakeAnthropic()
        first.respond_with(by_tool(tool_answer(answer(sure())), tool_answer(said)))
        last = await review(first, request(ledger_only(), config=VERIFY))
        [carried] = [f for f in last.plan.findings if f.source is Source.LLM]
        assert carried.id in last.verdicts

        again = FakeAnthropic()
        again.respond_with(lambda _: error(500, "api_error", "no call expected"))
        req = request(
            ledger_only(),
            config=VERIFY,
            model_scope=frozenset(),
            carried=(carried,),
            verdicts=last.verdicts,
        )
        result = await review(again, req)

        assert again.bodies == []
        assert (result.plan.blocking == 1) is blocks
        assert dict(result.verdicts) == dict(last.verdicts)


async def test_a_verdict_is_not_kept_once_the_findings_file_changed() -> None:
    # The push changed the file (the guard the refutation cited removed, say): the model
    # reports the same finding again, with the same id, and it is verified again.
    first = FakeAnthropic()
    refuted = {"reason": "Line 11 returns early on a zero amount.", "confirmed": False}
    first.respond_with(by_tool(tool_answer(answer(sure())), tool_answer(refuted)))
    last = await review(first, request(ledger_only(), config=VERIFY))
    [carried] = [f for f in last.plan.findings if f.source is Source.LLM]
    assert last.plan.conclusion == "success"

    again = FakeAnthropic()
    confirmed = {"reason": "Line 12 writes the row unchecked.", "confirmed": True}
    again.respond_with(by_tool(tool_answer(answer(sure())), tool_answer(confirmed)))
    req = request(
        ledger_only(),
        config=VERIFY,
        model_scope=frozenset({LEDGER}),
        carried=(carried,),
        verdicts=last.verdicts,
    )
    result = await review(again, req)

    assert len(verify_bodies(again)) == 1
    assert result.plan.conclusion == "failure"
    assert dict(result.verdicts) == {carried.id: None}


async def test_the_verdicts_are_returned_to_be_kept() -> None:
    fake = FakeAnthropic()
    verdict = tool_answer({"reason": "Line 12 writes the row unchecked.", "confirmed": True})
    fake.respond_with(by_tool(tool_answer(answer(sure())), verdict))

    result = await review(fake, request(ledger_only(), config=VERIFY))

    assert dict(result.verdicts) == {finding_id: None for finding_id in llm_ids(result)}


async def test_past_the_review_s_deadline_the_finding_is_advisory_uncalled() -> None:
    fake = FakeAnthropic()
    timeline = Timeline()

    def slow_review(body: dict[str, Any]) -> Answer:
        timeline.now += 700  # the review's answer took longer than its 600 s deadline
        return tool_answer(answer(sure()))

    fake.respond_with(slow_review)

    result = await review(fake, request(ledger_only(), config=VERIFY), timeline=timeline)

    assert [b["tools"][0]["name"] for b in fake.bodies] == [TOOL_NAME]
    assert result.plan.advisory == {}
    assert "not verified: the review's deadline had passed" in unverified_notice(result)


async def test_a_refutation_must_cite_a_line_of_the_code_shown() -> None:
    head = "\n".join(f"line_{n} = {n}" for n in range(1, 301))
    files = FileContext.of([FileText(LEDGER, head=head, base=None)])
    for reason, refuted in [
        ("Line 290 checks the amount.", False),  # outside the 60 lines around line 12
        ("Line 11 returns early on a zero amount.", True),
    ]:
        fake = FakeAnthropic()
        verdict = tool_answer({"reason": reason, "confirmed": False})
        fake.respond_with(by_tool(tool_answer(answer(sure())), verdict))

        result = await review(fake, request(ledger_only(), config=VERIFY, files=files))

        assert (result.plan.blocking == 0) is refuted, reason
