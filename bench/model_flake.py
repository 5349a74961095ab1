"""The same pull request reviewed 20 times by a model that guesses differently each time.

    .venv/bin/python -m bench.model_flake              # 20 runs per case, seed 14
    .venv/bin/python -m bench.model_flake --runs 50 --seed 3
    .venv/bin/python -m bench.model_flake --verify     # adds confident wrong findings

The model is the fake Messages API (`tests/fakes/anthropic_api.py`) behind the real adapter,
so each answer goes through the tool call, validation, merge, anchoring and the plan. Every
run gives the same real finding plus 0-4 speculative ones drawn at random: questions rated
critical or major with any confidence, evidence below `model.block_confidence`, confident
evidence citing lines that are not in the diff. A check a team can require must reach the
same conclusion on every run; the figure without the evidence gate (every model finding at or
above `fail_on` blocks, the behaviour before issue 14) is printed beside it.

`--verify` adds a fourth kind of noise the gate cannot catch: confident evidence on lines of
the diff that is simply wrong. It prints the gate alone beside the gate with `model.verify:
true`, whose fake verifier confirms the real finding and refutes the others, and how many
verification calls a review made.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
from collections import Counter
from typing import Any

from app.review.plan import ReviewPlan
from app.review.repo_config import ModelConfig, RepoConfig
from app.review.verify import VERIFY_TOOL
from tests.fakes.anthropic_api import Answer, FakeAnthropic, tool_answer
from tests.jobs.model_calls import LEDGER, answer, finding, ledger_only, request, review

ON_DIFF = [10, 11, 12, 13, 14, 15, 41, 42, 43, 44, 45]  # the ledger's commentable new lines


def _noise(rng: random.Random, kinds: int = 3) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(rng.randint(0, 4)):
        severity = rng.choice(["critical", "major"])
        line = str(rng.choice(ON_DIFF))
        kind = rng.randrange(kinds)
        if kind == 0:
            extra = {"type": "question", "confidence": round(rng.uniform(0.05, 1.0), 2)}
        elif kind == 1:
            extra = {"confidence": round(rng.uniform(0.05, 0.79), 2)}
        elif kind == 2:
            extra = {"confidence": 0.9}
            line = f"{rng.randint(300, 900)}-{rng.randint(901, 9999)}"  # not in the diff
        else:
            extra = {"confidence": 0.9}  # confident, on the diff, and wrong: only verify helps
        out.append(
            finding(
                LEDGER,
                line,
                severity=severity,
                category=rng.choice(["security", "data", "reliability"]),
                title=f"maybe a problem #{i}?",
                **extra,
            )
        )
    return out


def _blocks_without_gate(plan: ReviewPlan) -> bool:
    live = [f for f in plan.findings if f.id not in set(plan.dismissed)]
    return any(f.severity.rank >= 2 for f in live)  # fail_on: major, every finding counted


async def _case(name: str, real: dict[str, Any], runs: int, seed: int) -> None:
    rng = random.Random(seed)
    gated: Counter[str] = Counter()
    ungated: Counter[str] = Counter()
    for _ in range(runs):
        fake = FakeAnthropic()
        fake.enqueue(tool_answer(answer(real, *_noise(rng))))
        result = await review(fake, request(ledger_only()))
        gated[result.plan.conclusion] += 1
        ungated["failure" if _blocks_without_gate(result.plan) else result.plan.conclusion] += 1
    print(
        f"{name}: with the gate {dict(gated)} | without it {dict(ungated)} "
        f"| same conclusion {max(gated.values())}/{runs}"
    )


def _verifier(real_title: str, review_answer: Answer) -> Any:
    def respond(body: dict[str, Any]) -> Answer:
        if body["tools"][0]["name"] != VERIFY_TOOL:
            return review_answer
        content = body["messages"][0]["content"]
        text = content if isinstance(content, str) else "".join(b["text"] for b in content)
        real = f"Title: {real_title}" in text
        # A refutation must cite a line of the code shown: the finding's own first line is.
        cited = re.search(r", lines (\d+)", text)
        where = f"line {cited.group(1)}" if cited else "the lines shown"
        reason = f"checked on {where}: " + ("it fails as written" if real else "it is guarded")
        return tool_answer({"reason": reason, "confirmed": real})

    return respond


async def _verify_case(name: str, real: dict[str, Any], runs: int, seed: int) -> None:
    rng = random.Random(seed)
    verify = RepoConfig(model=ModelConfig(verify=True))
    gated: Counter[str] = Counter()
    verified: Counter[str] = Counter()
    calls = 0
    for _ in range(runs):
        noise = _noise(rng, kinds=4)
        for config, seen in ((RepoConfig(), gated), (verify, verified)):
            fake = FakeAnthropic()
            fake.respond_with(_verifier(real["title"], tool_answer(answer(real, *noise))))
            result = await review(fake, request(ledger_only(), config=config))
            seen[result.plan.conclusion] += 1
            if config is verify:
                calls += result.calls - 1
    print(
        f"{name} (+ confident wrong findings): gate alone {dict(gated)} "
        f"| gate + verify {dict(verified)} | same conclusion {max(verified.values())}/{runs} "
        f"| {calls / runs:.1f} verification call(s) per review"
    )


async def _main(runs: int, seed: int, verify: bool) -> None:
    clean = finding(LEDGER, "11", severity="minor", title="Log the entry id", confidence=0.9)
    bug = finding(LEDGER, "42", severity="critical", title="Balance is not locked", confidence=0.95)
    await _case("a PR with a minor finding", clean, runs, seed)
    await _case("a PR with a real critical bug", bug, runs, seed + 1)
    if verify:
        await _verify_case("a PR with a minor finding", clean, runs, seed)
        await _verify_case("a PR with a real critical bug", bug, runs, seed + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--verify", action="store_true", help="also run with model.verify")
    args = parser.parse_args()
    asyncio.run(_main(args.runs, args.seed, args.verify))


if __name__ == "__main__":
    main()
