"""The code around the hunks: what it adds to a typical PR's prompt, and what reading it costs.

    .venv/bin/python -m bench.code_view

1. A typical PR: 20 modified Python files of 300 lines (15 functions of 20 lines), two 6-line
   hunks each. Tokens of the DIFF block (estimated as the planner does) with the hunks alone,
   with each hunk in its function, and with the outlines too; and the time to read the 20 head
   files (`code_views`) and render every part.
2. The outline reader alone on 1 MB files of Python, TypeScript and Ruby (and a 1 MB minified
   line), median of 5: one pass, so time grows with size only.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from app.review.chunking import ChunkPart, estimate_tokens
from app.review.code_view import code_views, views_without_outline
from app.review.diff import parse_diff
from app.review.file_context import FileContext, FileText
from app.review.outline import outline
from app.review.prompt import render_part


def _function(n: int) -> list[str]:
    body = [f"    value_{n}_{i} = service.call_{i}(request, amount={i})" for i in range(18)]
    return [f"def handler_{n}(request):", *body, "    return value"]


def _typical() -> tuple[str, FileContext]:
    parts, texts = [], []
    for f in range(20):
        lines = [line for n in range(15) for line in _function(n)]
        path = f"app/services/s{f}.py"
        texts.append(FileText(path, "\n".join(lines) + "\n", None))
        parts.append(f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n")
        for start in (45, 205):  # inside handler_2 and handler_10
            old = lines[start - 1 : start + 5]
            parts.append(f"@@ -{start},6 +{start},6 @@\n")
            parts += [f" {old[0]}\n", f" {old[1]}\n", f"-{old[2]}\n", f"+{old[2]}  # x\n"]
            parts += [f" {old[3]}\n", f" {old[4]}\n", f" {old[5]}\n"]
    return "".join(parts), FileContext.of(texts)


def _median(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    text, files = _typical()
    diff = parse_diff(text)
    rich = code_views(diff, files, with_outline=True)
    levels = {
        "hunks alone": {},
        "with functions": views_without_outline(rich),
        "and outlines": rich,
    }
    print("typical PR (20 files, 40 hunks): DIFF block tokens")
    for name, views in levels.items():
        tokens = sum(
            estimate_tokens(render_part(ChunkPart(f, f.hunks), views.get(f.path)) + "\n")
            for f in diff.files
        )
        print(f"  {name:<15} {tokens:>7,}")
    seconds = _median(
        lambda: [
            render_part(ChunkPart(f, f.hunks), v.get(f.path))
            for v in [code_views(diff, files, with_outline=True)]
            for f in diff.files
        ]
    )
    print(f"  read 20 head files and render every part: {seconds * 1000:.1f} ms (median of 5)")
    print("outline reader on 1 MB (median of 5)")
    python = "\n".join(line for n in range(2_600) for line in _function(n)) + "\n"
    typescript = "".join(
        f"export class C{n} {{\n  m(a: number): number {{\n"
        + "".join(f"    const v{i} = this.s.call({i}, '{{');\n" for i in range(12))
        + "    return a;\n  }\n}\n"
        for n in range(1_800)
    )
    ruby = "".join(
        f"class C{n}\n  def m(a)\n"
        + "".join(f"    v{i} = s.call({i})\n" for i in range(14))
        + "    a\n  end\nend\n"
        for n in range(2_700)
    )
    minified = "function a(){" + "var x='{';" * 100_000 + "}"
    cases = {"python": python, "brace": typescript, "ruby": ruby, "minified": minified}
    for name, source in cases.items():
        language = "brace" if name == "minified" else name
        seconds = _median(lambda s=source, lang=language: outline(s, lang))  # type: ignore[misc]
        blocks = len(outline(source, language))  # type: ignore[arg-type]
        size = len(source) / 1e6
        print(f"  {name:<9} {size:4.2f} MB  {blocks:>6,} blocks  {seconds * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
