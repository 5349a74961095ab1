"""Time config `ignore` globs (pathspec's GitIgnoreSpec on RE2, `app.review.globs`): many
paths against a realistic list, and hostile globs against long names, at n and 8n.

    .venv/bin/python -m bench.globs                 # 20,000 paths, 12 globs, 5 runs
    .venv/bin/python -m bench.globs --paths 100000

Prints figures; asserts nothing (docs/performance.md records them).
"""

from __future__ import annotations

import argparse
import time

from app.review.files import ignored_reason
from app.review.globs import compile_globs, match_glob

GLOBS = [
    "docs/**",
    "!docs/adr/**",
    "*.snap",
    "build/",
    "**/fixtures/**",
    "src/[xy].py",
    "*.py[co]",
    "/scripts/*.sh",
    "app/**/migrations/*.py",
    "!app/core/migrations/0001_initial.py",
    "**/*.generated.*",
    "vendor/",
]
HOSTILE = ["**/a*a*a*a*a*a*a*a*b", "a/**/a/**/a/**/a/**/b", "*a*a*a*a*a*a*a*a*a*a*"]


def _paths(n: int) -> list[str]:
    dirs = ["app/api", "app/core/migrations", "docs/adr", "docs", "src", "build", "x/fixtures"]
    exts = ["py", "pyc", "md", "snap", "sh", "generated.ts", "go"]
    return [f"{dirs[i % len(dirs)]}/m{i}/f{i}.{exts[i % len(exts)]}" for i in range(n)]


def _cpu(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()  # type: ignore[operator]
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paths", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    paths = _paths(args.paths)
    start = time.process_time()
    compile_globs(tuple(GLOBS))
    print(f"compile {len(GLOBS)} globs: {(time.process_time() - start) * 1000:.1f} ms")
    took = _cpu(lambda: [ignored_reason(p, GLOBS) for p in paths], args.repeat)
    print(
        f"ignored_reason: {len(paths):,} paths x {len(GLOBS)} globs: {took * 1000:.0f} ms "
        f"({took / len(paths) * 1e6:.1f} us a path)"
    )
    for glob in HOSTILE:
        small = _cpu(lambda g=glob: match_glob("a/" * 4096 + "a" * 8192, g), args.repeat)
        large = _cpu(lambda g=glob: match_glob("a/" * 32768 + "a" * 65536, g), args.repeat)
        print(
            f"hostile {glob!r}: {small * 1000:.2f} ms at 16 KB, {large * 1000:.2f} ms at 128 KB "
            f"(x{large / small if small else float('nan'):.1f})"
        )


if __name__ == "__main__":
    main()
