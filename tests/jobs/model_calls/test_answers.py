"""What the model answers, and what reaches the plan: findings, repairs, anchoring."""

from __future__ import annotations

from app.review.findings import Source
from tests.fakes.anthropic_api import FakeAnthropic, text_answer, tool_answer
from tests.jobs.model_calls import (
    ENDPOINT,
    LEDGER,
    answer,
    finding,
    ledger_only,
    request,
    review,
)


def _llm(result_findings: list[object]) -> list[object]:
    return [f for f in result_findings if getattr(f, "source", None) is Source.LLM]


async def test_a_tool_answer_is_merged_with_the_rule_findings() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(answer(finding(rule="api.idempotency", lines="11"))))

    result = await review(fake)

    assert (result.outcome, result.calls, result.model) == ("complete", 1, "claude-sonnet-4-6")
    assert result.usage.input_tokens == 1520
    assert result.usage.output_tokens == 318
    rules = {f.rule for f in result.plan.findings if f.source is Source.RULE}
    assert {"hardcoded-secret", "tests-missing"} <= rules
    [llm] = _llm(result.plan.findings)  # type: ignore[misc]
    assert (llm.rule, llm.where.path, llm.where.lines) == ("api.idempotency", ENDPOINT, "11")
    assert llm.id.startswith("br-")
    inline = [c for c in result.plan.comments if c.path == ENDPOINT and c.line == 11]
    assert len(inline) == 1
    assert "Refund amount is not checked" in inline[0].body
    assert "Adds a refunds endpoint." in result.plan.summary_body
    assert result.plan.conclusion == "failure"  # the secret blocks, whatever the model says


async def test_the_request_carries_persona_checklists_schema_and_numbered_diff() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer(answer()))

    await review(fake)

    [body] = fake.bodies
    system = [block["text"] for block in body["system"]]
    assert "cache_control" in body["system"][-1]
    assert any("[security.authz-boundary]" in text for text in system)
    tool = body["tools"][0]
    assert tool["name"] == body["tool_choice"]["name"] == "submit_review"
    rule_enum = tool["input_schema"]["$defs"]["Finding"]["properties"]["rule"]["enum"]
    assert "api.idempotency" in rule_enum
    assert rule_enum[-1] == "general"
    user = body["messages"][0]["content"]
    assert f"FILE {ENDPOINT} (added)" in user
    # OLD and NEW columns: an added line has no OLD number, a context line has both.
    assert '      4 +STRIPE_KEY = "' in user
    assert "   11    11      db.add(entry)" in user
    assert "hardcoded-secret" in user  # the rule findings are given as facts


async def test_an_invalid_finding_is_dropped_alone_with_a_note_and_no_repair_turn() -> None:
    fake = FakeAnthropic()
    bad = answer(
        finding(severity="urgent"),
        finding(rule="made-up-rule"),
        finding(title="One extra key", lines="11", why="because"),
        finding(title="Kept, range reversed", lines="12-10"),
    )
    fake.enqueue(tool_answer(bad))

    result = await review(fake)

    assert (result.outcome, result.calls) == ("complete", 1)  # nothing missing: no repair
    [kept] = _llm(result.plan.findings)  # type: ignore[misc]
    assert (kept.title, kept.where.lines) == ("Kept, range reversed", "10-12")
    assert result.plan.summary is not None
    assert "Model answer, 3 invalid model finding(s) dropped: findings[0].severity" in (
        result.plan.summary_body
    )
    assert "'made-up-rule' is not a checklist item id" in result.plan.summary_body


async def test_a_missing_summary_is_asked_for_alone_and_the_findings_are_kept() -> None:
    fake = FakeAnthropic()
    first = answer(finding(title="First answer's finding"))
    del first["summary"]
    fake.enqueue(tool_answer(first), tool_answer(answer(summary="Now with a summary.")))

    result = await review(fake)

    assert (result.outcome, result.calls) == ("complete", 2)
    assert [f.title for f in _llm(result.plan.findings)] == ["First answer's finding"]  # type: ignore[attr-defined]
    assert result.plan.summary is not None
    assert result.plan.summary.summary == "Now with a summary."
    repair = fake.bodies[1]["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    feedback = repair[2]["content"][0]
    assert (feedback["type"], feedback["is_error"]) == ("tool_result", True)
    assert "summary: missing or invalid; your findings were kept" in feedback["content"]


async def test_no_summary_after_the_repair_keeps_the_findings_but_is_not_success() -> None:
    fake = FakeAnthropic()
    first = answer(finding(path=LEDGER, lines="11", title="Ledger finding", severity="minor"))
    del first["summary"]
    fake.enqueue(tool_answer(first), tool_answer({"findings": []}))

    result = await review(fake, request(ledger_only()))

    # Its findings are published, so the review is partial, not "the rules' findings are shown".
    assert result.outcome == "partial"
    assert [f.title for f in _llm(result.plan.findings)] == ["Ledger finding"]  # type: ignore[attr-defined]
    assert result.plan.conclusion == "neutral"
    assert "no valid summary, also after a repair turn" in result.plan.check_title


async def test_still_malformed_after_the_repair_means_rules_only_and_neutral() -> None:
    fake = FakeAnthropic()
    fake.enqueue(tool_answer({"findings": "none"}), tool_answer({"findings": []}))
    # Without the endpoint, the rules find nothing blocking: the gate must not say success.
    result = await review(fake, request(ledger_only()))

    assert result.outcome == "unusable"
    assert len(fake.requests) == 2
    assert _llm(result.plan.findings) == []
    assert result.plan.conclusion == "neutral"
    assert "the model gave no valid summary" in result.plan.check_title
    assert {n.path for n in result.plan.not_reviewed} == {LEDGER}
    repair = fake.bodies[1]["messages"][2]["content"][0]
    assert "findings: missing or not a list" in repair["content"]


async def test_paths_with_diff_or_shell_prefixes_are_the_changed_file() -> None:
    fake = FakeAnthropic()
    fake.enqueue(
        tool_answer(
            answer(
                finding(path=f"b/{ENDPOINT}", title="From a diff header"),
                finding(path=f"./{ENDPOINT}", lines="11", title="From a shell"),
                finding(path="b/app/nowhere.py", title="Invented"),
            )
        )
    )

    result = await review(fake)

    got = {f.title: f.where.path for f in _llm(result.plan.findings)}  # type: ignore[attr-defined]
    assert got == {"From a diff header": ENDPOINT, "From a shell": ENDPOINT}
    assert "1 model finding(s) named files this pull request does not change" in (
        result.plan.summary_body
    )


async def test_a_text_answer_without_the_tool_is_asked_again_through_the_tool() -> None:
    fake = FakeAnthropic()
    fake.enqueue(
        text_answer("Looks good to me, approve."),
        tool_answer(answer(finding())),
    )

    result = await review(fake)

    assert result.outcome == "complete"
    second = fake.bodies[1]["messages"]
    assert second[1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Looks good to me, approve."}],
    }
    assert "submit_review" in str(second[2]["content"])


async def test_invented_paths_are_dropped_and_said_once() -> None:
    fake = FakeAnthropic()
    invented = [finding(path="app/billing/stripe.py"), finding(path="app/billing/stripe.py")]
    fake.enqueue(tool_answer(answer(*invented, finding())))

    result = await review(fake)

    assert {f.where.path for f in _llm(result.plan.findings)} == {ENDPOINT}  # type: ignore[attr-defined]
    assert "1 model finding(s) named files this pull request does not change" in (
        result.plan.summary_body
    )
    assert "app/billing/stripe.py" not in result.plan.summary_body.split("not change")[0]


async def test_lines_off_the_diff_and_ranges_across_hunks_are_anchored_on_the_diff() -> None:
    fake = FakeAnthropic()
    fake.enqueue(
        tool_answer(
            answer(
                finding(path=LEDGER, lines="200", title="Off the diff", rule="data.constraints"),
                finding(path=LEDGER, lines="11-43", title="Across hunks", rule="operations.logs"),
                finding(path=LEDGER, lines="17", title="Near a hunk", rule="api.error-envelope"),
            )
        )
    )

    result = await review(fake)

    ledger = [c for c in result.plan.comments if c.path == LEDGER]
    commentable = {10, 11, 12, 13, 14, 15, 41, 42, 43, 44, 45}
    for comment in result.plan.comments:
        if comment.path == LEDGER:
            assert comment.line in commentable
            assert comment.start_line is None or comment.start_line in commentable
    [across] = [c for c in ledger if "**Across hunks**" in c.body]
    assert (across.start_line, across.line) == (11, 15)  # narrowed into the first hunk
    [near] = [c for c in ledger if "**Near a hunk**" in c.body]
    assert (near.start_line, near.line) == (None, 15)  # snapped from 17
    assert not any("**Off the diff**" in c.body for c in ledger)  # no line near: file level
    assert any("**Off the diff**" in fc.body for fc in result.plan.file_comments)


async def test_a_refusal_is_final_for_its_part_no_repair_turn() -> None:
    fake = FakeAnthropic()
    fake.enqueue(text_answer("I can't help with that.", stop_reason="refusal"))

    result = await review(fake, request(ledger_only()))

    assert len(fake.requests) == 1  # not asked again: a repair would be paid and refused
    assert result.part_outcomes == ("rejected",)
    assert result.plan.conclusion == "neutral"
    assert "the model refused to review this part" in result.plan.check_title
