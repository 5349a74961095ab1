"""Time `plan_chunks` on large diffs: 5,000 files under the default budgets and unbounded, and
one file of thousands of hunks that must be split.

    .venv/bin/python -m bench.chunking            # default: 5,000 files of 60 lines, 5 runs
    .venv/bin/python -m bench.chunking --files 20000 --lines 40 --repeat 3

The diff is generated and parsed before the clock starts (bench/diff_scale.py's generator);
only the planning is timed. The renderer numbers every line, as the prompt does, so sizes and
render costs are realistic.
"""

from __future__ import annotations

import argparse
import statistics
import time

from app.review.chunking import ChunkPart, ChunkPlan, plan_chunks
from app.review.diff import Diff, parse_diff
from bench.diff_scale import make_diff

CALL_TOKENS = 60_000  # BACKEND_REVIEW_LLM_CALL_INPUT_TOKENS default
REVIEW_TOKENS = 400_000  # BACKEND_REVIEW_LLM_REVIEW_TOKENS default


def render(part: ChunkPart) -> str:
    head = f"### {part.file.path}"
    if part.parts > 1:
        head += f" (part {part.part} of {part.parts})"
    rows = [head]
    for hunk in part.hunks:
        rows.append(f"@@ {hunk.section}")
        for ln in hunk.lines:
            mark = "+" if ln.kind == "added" else "-" if ln.kind == "removed" else " "
            rows.append(f"{ln.new_no or '':>5} {mark}{ln.text}")
    return "\n".join(rows) + "\n"


def _time(diff: Diff, review_tokens: int, repeat: int) -> tuple[list[float], ChunkPlan]:
    times: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        plan = plan_chunks(
            diff, render=render, call_tokens=CALL_TOKENS, review_tokens=review_tokens
        )
        times.append(time.perf_counter() - t0)
    return times, plan


def _report(name: str, diff: Diff, review_tokens: int, repeat: int) -> None:
    times, plan = _time(diff, review_tokens, repeat)
    sent = {p for c in plan.chunks for p in c.paths}
    print(
        f"{name}: median {statistics.median(times) * 1000:.1f} ms, "
        f"min {min(times) * 1000:.1f} ms over {repeat} runs | files {len(diff.files):,}, "
        f"chunks {len(plan.chunks):,}, files sent {len(sent):,}, "
        f"not reviewed {len(plan.not_reviewed):,}, tokens planned {plan.tokens:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5_000)
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    many = parse_diff(make_diff(args.files, args.lines))
    _report("many files, default budgets", many, REVIEW_TOKENS, args.repeat)
    _report("many files, unbounded review", many, 10**12, args.repeat)

    # The generator's second file is a modified one with many small hunks (the first is added).
    giant = parse_diff(make_diff(2, args.files * args.lines // 10)).files[1]
    _report(f"one file of {len(giant.hunks):,} hunks", Diff((giant,)), 10**12, args.repeat)


if __name__ == "__main__":
    main()
