"""Review-core scale benchmark: parse -> rules -> anchor -> plan, against a bare unidiff parse.

Run: .venv/bin/python bench/diff_scale.py            (large + typical, ~1 minute)
     .venv/bin/python bench/diff_scale.py --quick    (smaller large case, for a smoke run)

Each measurement runs in a fresh subprocess, so peak memory (ru_maxrss) belongs to that case
alone; the diff text is generated inside the subprocess before the clock starts, and the
baseline RSS after generating it is reported too. Targets: large diff, core <= 2x the bare
parse in time and in peak memory; typical PR (20 files, ~1,000 lines) <= 12 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_WORDS = [
    "user",
    "order",
    "payment",
    "amount",
    "total",
    "items",
    "session",
    "token",
    "request",
    "response",
    "value",
    "status",
    "db",
    "query",
    "result",
    "id",
    "name",
]


def _line(r: random.Random) -> str:
    a, b, c = r.choice(_WORDS), r.choice(_WORDS), r.choice(_WORDS)
    return r.choice(
        [
            f"    {a}_{b} = {c}.get('{a}', {r.randrange(1000)})",
            f"def {a}_{b}({c}: int, {a}: str) -> None:",
            f"        return await self.{a}.{b}({c}=True)",
            f"    # {a} {b} {c} handling for the {a} service",
            f"    if {a} is None or {b} > {r.randrange(100)}:",
            f"        logger.info('{a} {b}', extra={{'{c}': {c}}})",
        ]
    )


def make_diff(files: int, lines_per_file: int, seed: int = 1) -> str:
    """A realistic git diff: Python files, 1 in 10 added, the rest modified in several hunks."""
    r = random.Random(seed)
    out: list[str] = []
    for i in range(files):
        path = f"src/pkg{i % 50}/module_{i}.py"
        if i % 10 == 0:
            n = lines_per_file - 5
            out.append(
                f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1234567\n"
                f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{n} @@\n"
            )
            out.extend(f"+{_line(r)}\n" for _ in range(n))
            continue
        out.append(
            f"diff --git a/{path} b/{path}\nindex 1234567..89abcde 100644\n"
            f"--- a/{path}\n+++ b/{path}\n"
        )
        body = lines_per_file - 4
        old = new = 1 + r.randrange(50)
        while body > 0:
            removed = r.randrange(0, 5)
            n = min(body - 1, 6 + r.randrange(1, 8) + removed)
            if n < 7:
                break
            added = max(0, n - 6 - removed)
            removed = n - 6 - added
            out.append(f"@@ -{old},{6 + removed} +{new},{6 + added} @@ def handler():\n")
            out.extend(f" {_line(r)}\n" for _ in range(3))
            out.extend(f"-{_line(r)}\n" for _ in range(removed))
            out.extend(f"+{_line(r)}\n" for _ in range(added))
            out.extend(f" {_line(r)}\n" for _ in range(3))
            old, new = old + 26 + removed, new + 26 + added
            body -= n + 1
    return "".join(out)


def _core(text: str) -> dict[str, float]:
    from app.review.diff import parse_diff
    from app.review.plan import PlanInput, build_plan
    from app.review.repo_config import RepoConfig
    from app.review.rules import run_rules

    config = RepoConfig()
    t0 = time.perf_counter()
    diff = parse_diff(text)
    t1 = time.perf_counter()
    findings = run_rules(diff, config.rule_context())
    t2 = time.perf_counter()
    plan = build_plan(PlanInput(diff, findings, config))  # anchors every finding, then plans
    t3 = time.perf_counter()
    return {
        "parse": t1 - t0,
        "rules": t2 - t1,
        "anchor+plan": t3 - t2,
        "total": t3 - t0,
        "findings": len(plan.findings),
        "files": len(diff.files),
    }


def _bare(text: str) -> dict[str, float]:
    from unidiff import PatchSet

    t0 = time.perf_counter()
    patch = PatchSet.from_string(text)
    t1 = time.perf_counter()
    return {"total": t1 - t0, "files": len(patch)}


def _child(kind: str, files: int, lines: int, repeat: int) -> None:
    """Runs in a fresh process: generate, measure, print one JSON line."""
    sys.path.insert(0, str(ROOT))
    text = make_diff(files, lines)
    import unidiff  # noqa: F401 - imported before the baseline so both cases pay for it

    import app.review.plan
    import app.review.rules  # noqa: F401

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    runs = [(_core if kind == "core" else _bare)(text) for _ in range(repeat)]
    result = dict(runs[-1])
    result["total"] = statistics.median(r["total"] for r in runs)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["base_mb"] = base_rss / 1024
    result["mb_text"] = len(text.encode()) / 1e6
    result["diff_lines"] = text.count("\n")
    print(json.dumps(result))


def _measure(kind: str, files: int, lines: int, repeat: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", kind, str(files), str(lines), str(repeat)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, files, lines, repeat = args.child
        _child(kind, int(files), int(lines), int(repeat))
        return

    large_files = 1000 if args.quick else 5000
    cases = [("large", large_files, 120, 1), ("typical", 20, 50, 30)]
    for name, files, lines, repeat in cases:
        bare = _measure("bare", files, lines, repeat)
        core = _measure("core", files, lines, repeat)
        print(
            f"{name}: {int(core['files'])} files, {int(core['diff_lines'])} diff lines, "
            f"{core['mb_text']:.1f} MB; {int(core['findings'])} findings"
        )
        print(
            f"  bare unidiff parse: {bare['total'] * 1000:8.1f} ms  "
            f"peak {bare['peak_mb']:6.0f} MB (before: {bare['base_mb']:.0f} MB)"
        )
        print(
            f"  core (parse {core['parse'] * 1000:.1f} + rules {core['rules'] * 1000:.1f} "
            f"+ anchor/plan {core['anchor+plan'] * 1000:.1f}): {core['total'] * 1000:8.1f} ms  "
            f"peak {core['peak_mb']:6.0f} MB (before: {core['base_mb']:.0f} MB)"
        )
        print(
            f"  ratio core/bare: time {core['total'] / bare['total']:.2f}x, "
            f"peak memory {core['peak_mb'] / bare['peak_mb']:.2f}x"
        )


if __name__ == "__main__":
    main()
