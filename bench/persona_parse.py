"""How long parsing a persona takes: the seed documents, and hostile shapes near the size limit.

    .venv/bin/python -m bench.persona_parse [SEEDS_DIR]

Prints the time per seed document (default ../shared/seeds; skipped when absent) and, for each
hostile shape (the things a document could repeat to make the parser's work grow faster than
its size: headings, short plain lines, agent words, blank runs inside an item, cards), the CPU
time at about 8,000 and 64,000 characters and their ratio: about 8 when the work is linear,
about 64 when it is quadratic. `tests/review/test_persona_sections.py` gates on the ratio.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

from app.review.persona import MAX_PERSONA_CHARS, PersonaError, parse_persona

LINEAR_RATIO = 20.0  # 8x the input: ~8 when linear, ~64 when quadratic


def _repeat(head: str, unit: str, tail: str = "") -> Callable[[int], str]:
    def build(size: int) -> str:
        return head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail

    return build


SHAPES: dict[str, Callable[[int], str]] = {
    "agent headings": _repeat("", "## Tools\n"),
    "nested headings": _repeat("# A\n", "## B\nask the user\n"),
    "checklists headings": _repeat("", "## Checklists\n"),
    "short plain lines": _repeat("", "Tools\n"),
    "plain headings and text": _repeat("", "Scope\nSome longer text that follows it here.\n"),
    "agent list items": _repeat("## R\n\n", "- todo list item\n  - nested\n"),
    "blank run in an item": _repeat("## R\n\n- todo list\n", "\n", "  x\n"),
    "agent sentences": _repeat("## R\n\n", "Ask the user. "),
    "card lines": _repeat("", "**A:** b\n"),
    "checklist items alike": _repeat("## Checklists\n", "- Every query uses an index.\n"),
}


def cpu_seconds(text: str, runs: int = 3) -> float:
    """The least CPU time of `runs` parses (an error counts: the work was done)."""
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        with contextlib.suppress(PersonaError):
            parse_persona(text, source="bench.md")
        best = min(best, time.process_time() - start)
    return best


def ratio(shape: Callable[[int], str], small: int = 8_000) -> tuple[float, float, float]:
    """(seconds at `small`, seconds at 8x, their ratio)."""
    large = min(small * 8, MAX_PERSONA_CHARS)
    a, b = cpu_seconds(shape(small)), cpu_seconds(shape(large))
    return a, b, b / max(a, 1e-6)


def main(argv: list[str]) -> int:
    seeds = (
        Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / ".." / "shared" / "seeds"
    )
    if seeds.is_dir():
        for path in sorted(seeds.glob("*.txt")):
            text = path.read_text(encoding="utf-8")
            seconds = cpu_seconds(text, runs=20)
            print(f"seed {path.name[:3]}: {len(text):>6,} chars  {seconds * 1000:6.2f} ms")
    else:
        print(f"seeds: not found at {seeds}")
    for name, shape in SHAPES.items():
        a, b, r = ratio(shape)
        print(f"{name:<26} 8k {a * 1000:7.2f} ms   64k {b * 1000:7.2f} ms   ratio {r:5.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
