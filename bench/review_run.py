"""Time one whole review with the model's part, minus the model: what our side costs.

    .venv/bin/python -m bench.review_run               # 5,000-file PR and a 20-file PR, 5 runs
    .venv/bin/python -m bench.review_run --repeat 3

The model is an in-process stand-in that answers every call at once with one finding per
part (no HTTP, no waiting), so the figures are rules, planning the calls under the default
budgets (the bisection over the number of calls included), building every prompt, validating
the answers, merging and the plan. The diffs come from bench/diff_scale.py and are parsed
before the clock starts.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from app.jobs.model_calls import run_review
from app.jobs.model_result import ReviewResult
from app.jobs.persona_files import bundled_personas_dir, load_persona_file
from app.llm import ModelReply, ModelRequest, Usage
from app.review.budget import ModelLimits
from app.review.diff import Diff, parse_diff
from app.review.repo_config import RepoConfig
from app.review.request import ReviewRequest
from bench.diff_scale import make_diff

LIMITS = ModelLimits(  # the settings' defaults
    call_input_tokens=60_000,
    review_tokens=400_000,
    max_output_tokens=8_192,
    concurrency=3,
    deadline_seconds=600,
    tokens_left_today=None,
)


class InstantModel:
    """Answers each call with one finding on the first file of its part."""

    model = "instant"

    def __init__(self) -> None:
        self.calls = 0

    async def review(
        self,
        request: ModelRequest,
        *,
        deadline: float | None = None,
        started: asyncio.Event | None = None,
    ) -> ModelReply:
        self.calls += 1
        if started is not None:
            started.set()
        first = next(
            line.split(" ")[1] for line in request.user.splitlines() if line.startswith("FILE ")
        )
        answer: dict[str, Any] = {
            "findings": [
                {
                    "rule": "general",
                    "type": "question",
                    "category": "reliability",
                    "severity": "minor",
                    "title": f"Is {first} covered by a test?",
                    "where": {"path": first},
                    "evidence": "No test file in this part.",
                    "recommendation": "Add one.",
                }
            ],
            "summary": {"summary": "ok", "recommendation": "approve"},
        }
        usage = Usage(input_tokens=len(request.user) // 3, output_tokens=200)
        return ModelReply(answer, "toolu_1", "", "tool_use", usage, self.model)


def _request(diff: Diff) -> ReviewRequest:
    persona = load_persona_file(bundled_personas_dir() / "backend-engineer.md")
    return ReviewRequest(
        diff=diff, config=RepoConfig(), persona=persona, checklists=persona.checklists
    )


def _case(name: str, files: int, lines: int, repeat: int) -> None:
    diff = parse_diff(make_diff(files, lines))
    request = _request(diff)
    times: list[float] = []
    result: ReviewResult | None = None
    calls = 0
    for _ in range(repeat):
        model = InstantModel()
        t0 = time.perf_counter()
        result = asyncio.run(run_review(request, model, LIMITS))
        times.append(time.perf_counter() - t0)
        calls = model.calls
    assert result is not None
    print(
        f"{name}: median {statistics.median(times) * 1000:.0f} ms, "
        f"min {min(times) * 1000:.0f} ms over {repeat} runs | files {len(diff.files):,}, "
        f"calls {calls}, outcome {result.outcome}, findings {len(result.plan.findings):,}, "
        f"not reviewed {len(result.plan.not_reviewed):,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    _case("large PR (5,000 files of 60 lines)", 5_000, 60, args.repeat)
    _case("typical PR (20 files of 50 lines)", 20, 50, args.repeat)


if __name__ == "__main__":
    main()
