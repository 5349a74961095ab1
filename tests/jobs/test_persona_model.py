"""A persona whose `model:` the capability table lacks, through the App: the model part does
not run, the check says why and is neutral at best; a known model is the one called."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from app.review.persona import REPO_PERSONAS_DIR
from tests.fakes.anthropic_api import tool_answer
from tests.jobs import REFUNDS, World, world
from tests.jobs.model_calls import answer

# The ledger alone: no rule finding blocks, so only the missing model review decides.
LEDGER_ONLY = REFUNDS[REFUNDS.index("diff --git a/app/services/ledger.py") :]


def _persona(w: World, model: str) -> None:
    w.github.set_file(w.repo, "main", ".github/backend-review.yml", "persona: payments\n")
    text = f"---\nmodel: {model}\n---\n# Payments reviewer\n\nYou review payment code.\n"
    w.github.set_file(w.repo, "main", f"{REPO_PERSONAS_DIR}/payments.md", text)


async def test_an_unknown_persona_model_is_not_called_and_the_check_says_why(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with world(engine, tmp_path) as w:
        _persona(w, "claude-foo")
        pr = w.pull(diff=LEDGER_ONLY)

        await w.run(w.review_job(pr))

        assert w.llm.requests == []
        [check] = w.github.check_runs_for(w.repo, pr.head_sha, "backend-review")
        assert check.conclusion == "neutral"  # not success: the model did not review
        assert check.output is not None
        assert check.output["title"].startswith(
            "Review incomplete: the persona's model 'claude-foo' is not a model backend-review "
            "knows on anthropic"
        )


async def test_a_known_persona_model_is_the_one_called(engine: AsyncEngine, tmp_path: Path) -> None:
    async with world(engine, tmp_path) as w:
        _persona(w, "claude-opus-4-6")
        w.llm.respond_with(lambda _: tool_answer(answer()))
        pr = w.pull()

        await w.run(w.review_job(pr))

        assert {b["model"] for b in w.llm.bodies} == {"claude-opus-4-6"}
