"""Tests of `app.jobs.model_calls`: the whole review, with the model faked at the HTTP edge.

Shared here: the refunds diff (a hard-coded key the secrets rule blocks on, an endpoint, and a
service file with two hunks), the bundled persona, a model wired to `FakeAnthropic`, limits,
and builders for the tool input the model sends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.jobs.model_calls import run_review
from app.jobs.model_result import ReviewResult
from app.jobs.persona_files import bundled_personas_dir, load_persona_file
from app.llm import AnthropicModel
from app.review.budget import ModelLimits
from app.review.diff import Diff, parse_diff
from app.review.persona import Persona, parse_persona
from app.review.repo_config import RepoConfig
from app.review.request import ReviewRequest
from tests.fakes.anthropic_api import FakeAnthropic
from tests.llm import MODEL, Timeline

REFUNDS = Path(__file__).parents[2] / "diffs" / "refunds.diff"
ENDPOINT = "app/api/refunds.py"  # new file, lines 1-14
LEDGER = "app/services/ledger.py"  # hunks at new lines 10-15 and 41-45


def refunds_diff() -> Diff:
    return parse_diff(REFUNDS.read_text(encoding="utf-8"))


def ledger_only() -> Diff:
    """The service file alone: nothing in it for the rules to block on."""
    return Diff(files=tuple(f for f in refunds_diff().files if f.path == LEDGER))


def many_files(n: int, lines: int = 40, *, prefix: str = "app/services/s") -> Diff:
    """`n` new Python files of `lines` lines each, none of which the rules block on."""
    parts = []
    for i in range(n):
        body = "".join(
            f"+value_{j} = compute({i}, {j})  # step {j} of the job\n" for j in range(lines)
        )
        parts.append(
            f"diff --git a/{prefix}{i}.py b/{prefix}{i}.py\nnew file mode 100644\n"
            f"--- /dev/null\n+++ b/{prefix}{i}.py\n@@ -0,0 +1,{lines} @@\n{body}"
        )
    return parse_diff("".join(parts))


SMALL_PERSONA = """\
---
name: terse
checklists:
  Data:
    - Every write is in a transaction.
---
Review backend changes.
"""


def small_persona() -> Persona:
    """A persona with a short prompt, so that small call budgets still leave room for a diff."""
    return parse_persona(SMALL_PERSONA, source="terse.md")


def default_persona() -> Persona:
    return load_persona_file(bundled_personas_dir() / "backend-engineer.md")


def request(
    diff: Diff | None = None, persona: Persona | None = None, **changes: Any
) -> ReviewRequest:
    persona = persona or default_persona()
    checklists = persona.checklists or default_persona().checklists
    values: dict[str, Any] = {
        "diff": diff or refunds_diff(),
        "config": RepoConfig(),
        "persona": persona,
        "checklists": checklists,
    }
    return ReviewRequest(**{**values, **changes})


def limits(**changes: Any) -> ModelLimits:
    values: dict[str, Any] = {
        "call_input_tokens": 60_000,
        "review_tokens": 400_000,
        "max_output_tokens": 4096,
        "concurrency": 3,
        "deadline_seconds": 600.0,
        "tokens_left_today": None,
    }
    return ModelLimits(**{**values, **changes})


def model(fake: FakeAnthropic, timeline: Timeline, **options: Any) -> AnthropicModel:
    values: dict[str, Any] = {
        "model": MODEL,
        "max_output_tokens": 4096,
        "timeout_seconds": 60.0,
        "max_attempts": 3,
        "secrets": (fake.api_key,),
        "sleep": timeline.sleep,
        "clock": timeline.clock,
    }
    return AnthropicModel(fake.client(), **{**values, **options})


async def review(
    fake: FakeAnthropic,
    req: ReviewRequest | None = None,
    *,
    timeline: Timeline | None = None,
    model_options: dict[str, Any] | None = None,
    **limit_changes: Any,
) -> ReviewResult:
    timeline = timeline or Timeline()
    return await run_review(
        req or request(),
        model(fake, timeline, **(model_options or {})),
        limits(**limit_changes),
        clock=timeline.clock,
    )


def finding(
    path: str = ENDPOINT,
    lines: str | None = "10",
    *,
    rule: str = "general",
    severity: str = "major",
    category: str = "api",
    title: str = "Refund amount is not checked against the order total",
    **extra: Any,
) -> dict[str, Any]:
    where: dict[str, Any] = {"path": path}
    if lines is not None:
        where["lines"] = lines
    return {
        "rule": rule,
        "type": "evidence",
        "category": category,
        "severity": severity,
        "title": title,
        "where": where,
        "evidence": "`payments.refund(order, amount)` takes any amount.",
        "recommendation": "Refuse an amount above what is left to refund on the order.",
        **extra,
    }


def answer(*findings: dict[str, Any], summary: str = "Adds a refunds endpoint.") -> dict[str, Any]:
    return {
        "findings": list(findings),
        "summary": {
            "summary": summary,
            "recommendation": "request changes: the refund amount is unchecked",
            "rationale": [],
            "risks": ["money leaves through an unchecked amount"],
            "nextActions": [],
            "missingContext": [],
        },
    }


def files_in(body: dict[str, Any]) -> list[str]:
    """The FILE lines of the diff block in a recorded request's user turn."""
    user = body["messages"][0]["content"]
    text = user if isinstance(user, str) else "".join(b.get("text", "") for b in user)
    return [line.split(" ")[1] for line in text.splitlines() if line.startswith("FILE ")]
