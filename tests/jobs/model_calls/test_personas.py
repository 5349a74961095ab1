"""Every kind of persona file makes a request the API accepts and a plan.

The seed documents (Claude Code subagent, opencode agent, Copilot prompt file, plain text) and
our own fixtures of each kind are loaded with the real loader, reviewed through the fake API
(which refuses what the real API refuses), and answered with a finding on one of their rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.jobs.persona_files import bundled_personas_dir, load_persona_file
from app.review.findings import Source
from app.review.model_answer import GENERAL_RULE
from app.review.persona import checklists_for
from tests.fakes.anthropic_api import FakeAnthropic, tool_answer
from tests.jobs.model_calls import ENDPOINT, answer, default_persona, finding, request, review
from tests.review.test_persona import seeds_dir

FIXTURES = Path(__file__).parents[2] / "review" / "personas"
SEED_NAMES = [f"{i:03d}" for i in range(5)]


async def _review_with(path: Path) -> None:
    persona = load_persona_file(path)
    fake = FakeAnthropic()
    merged = checklists_for(persona, default_persona().checklists)
    req = request(persona=persona, checklists=merged.checklists)
    # A finding on one of the document's own items when it has any, else on a built-in one.
    rule = min(merged.from_document, default=req.checklists[0].items[0].id)
    fake.enqueue(tool_answer(answer(finding(rule=rule, lines="11"))))

    result = await review(fake, req)

    assert result.outcome == "complete", result.plan.check_title
    [body] = fake.bodies
    system = "\n".join(block["text"] for block in body["system"])
    assert persona.instructions[:200] in system
    enum = body["tools"][0]["input_schema"]["$defs"]["Finding"]["properties"]["rule"]["enum"]
    assert enum == [*dict.fromkeys(i.id for c in req.checklists for i in c.items), GENERAL_RULE]
    if not persona.checklists:  # the default persona's checklists stand in
        assert req.checklists == default_persona().checklists
    assert merged.from_document <= set(enum)  # the document's items are offered too
    [llm] = [f for f in result.plan.findings if f.source is Source.LLM]
    assert (llm.rule, llm.where.path) == (rule, ENDPOINT)


@pytest.mark.parametrize("prefix", SEED_NAMES)
async def test_each_seed_document_reviews_as_a_persona(prefix: str) -> None:
    directory = seeds_dir()
    if not directory.is_dir():
        pytest.skip(f"seed persona files not found at {directory} (set BACKEND_REVIEW_SEEDS_DIR)")
    [path] = sorted(directory.glob(f"{prefix}_*.txt"))
    await _review_with(path)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
async def test_each_fixture_persona_reviews(name: str) -> None:
    await _review_with(FIXTURES / name)


async def test_the_bundled_persona_reviews() -> None:
    await _review_with(bundled_personas_dir() / "backend-engineer.md")
