"""Worst case of every regular expression in app/review, and of every rule, on hostile input.

Run: .venv/bin/python bench/regex_worst.py            (all patterns, then every rule; ~5 min)
     .venv/bin/python bench/regex_worst.py --quick    (the rules on the reported inputs only)
     .venv/bin/python bench/regex_worst.py --only GUARD,_JS_TRIVIAL   (some patterns)

Per pattern: the hostile input family that costs it most (from `bench/regex_audit.py`) and
the CPU-time growth from n to 8n characters (8 is linear, 64 quadratic). Per rule: every
rule run alone on diffs made of the reported inputs and of each pattern's worst input as one
line of a route module, a knex, SQL and Rails migration, a Django model and a Prisma schema;
its worst CPU time at the large size, and the growth. CPU time of this thread, minimum of
several runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.review.diff import parse_diff
from app.review.rules.base import Change, RuleContext
from app.review.rules.registry import ALL_RULES
from bench import regex_audit as audit

PEM_HEAD = "-----BEGIN RSA " + "PRIVATE KEY-----"


def _added(path: str, text: str) -> str:
    lines = text.split("\n")
    body = "".join(f"+{ln}\n" for ln in lines)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


def _removed_line(path: str, line: str) -> str:
    return (
        f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
        f"@@ -1,3 +1,2 @@\n @router.get('/a')\n-{line}\n def a():\n"
    )


REPORTED: dict[str, Callable[[int], str]] = {
    "knex down() of '//' x n/2": lambda n: _added(
        "migrations/20240101_t.js",
        "exports.up = function (knex) {\n  return knex.schema.createTable('t', () => {});\n};\n"
        f"exports.down = function (knex) {{\n  {'//' * (n // 2)}\n  return knex.raw('x');\n}};",
    ),
    "decorator line '@auth' x n/5": lambda n: _added(
        "app/api.py", f"@router.get('/a')\n{'@auth' * (n // 5)}\ndef a():\n    return 1"
    ),
    "removed decorator '@' + 'auth' x n/4": lambda n: _removed_line(
        "app/api.py", "@" + "auth" * (n // 4)
    ),
    "PEM header, then n chars": lambda n: _added(
        "app/keys.py", f"KEY = '''{PEM_HEAD}\n{'n' * n}!\n'''"
    ),
    "'sk-' x n/3": lambda n: _added("app/settings.py", f"KEY = '{'sk-' * (n // 3)}'"),
}

_HOSTS = {
    "app/routes.py": "@router.post('/a')\n{line}\ndef a():\n    pass",
    "src/routes.ts": "@Post('/a')\n{line}\nasync a() {{}}",
    "migrations/20240101_t.js": "exports.up = function (knex) {{\n{line}\n}};\n"
    "exports.down = function (knex) {{\n{line}\n}};",
    "db/migrations/V1__t.sql": "ALTER TABLE t {line};\nUPDATE t SET a = 1 {line};",
    "db/migrate/20240101_t.rb": "class T < ActiveRecord::Migration[7.1]\n  def up\n{line}\n  end\n"
    "end",
    "app/models.py": "class T(models.Model):\n    {line}",
    "prisma/schema.prisma": "model T {{\n  {line}\n}}",
}


def _pattern_families(results: list[tuple[audit.Subject, audit.Scaling]]) -> dict[str, Callable]:
    families: dict[str, Callable[[int], str]] = {}
    for subject, result in results:
        shape = result.shape
        for path, template in _HOSTS.items():

            def family(
                n: int, shape: audit.Shape = shape, path: str = path, t: str = template
            ) -> str:
                line = shape.build(n).replace("\n", " ")
                return _added(path, t.format(line=line))

            families[f"{subject.name} worst line in {path}"] = family
    return families


def per_pattern(only: list[str]) -> list[tuple[audit.Subject, audit.Scaling]]:
    out = []
    for subject in audit.subjects():
        if only and not any(o in subject.name for o in only):
            continue
        result = audit.linear(subject)
        out.append((subject, result))
        flag = "SUPERLINEAR" if result.ratio > audit.LINEAR_RATIO else "linear"
        print(f"{flag:11} {subject.name}: {result}", flush=True)
    return out


def per_rule(families: dict[str, Callable[[int], str]], n: int) -> None:
    """Each rule alone on every family; a fresh Change per run (rules cache what they read)."""
    worst: dict[str, tuple[float, float, str]] = {}
    ctx = RuleContext()
    for name, family in families.items():
        diffs = parse_diff(family(n)), parse_diff(family(8 * n))
        for rule in ALL_RULES:
            small, large = (
                min(
                    audit.cpu(lambda d=d, r=rule: r.run(Change.build(d), ctx), 10.0)
                    for _ in range(3)
                )
                for d in diffs
            )
            ratio = large / max(small, 1e-7)
            if rule.id not in worst or large > worst[rule.id][0]:
                worst[rule.id] = (large, ratio, name)
    print(
        f"\nPer rule, worst CPU time at {8 * n:,} characters of hostile line (growth from {n:,}):"
    )
    for rule_id, (large, ratio, name) in sorted(worst.items(), key=lambda kv: -kv[1][0]):
        print(f"  {rule_id:36} {large * 1e3:9.2f} ms  x{ratio:5.1f}  on {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="rules on the reported inputs only")
    parser.add_argument("--only", default="", help="comma list of pattern names (substrings)")
    parser.add_argument("--n", type=int, default=8192, help="the smaller input size (chars)")
    args = parser.parse_args()
    families = dict(REPORTED)
    if not args.quick:
        only = [o for o in args.only.split(",") if o]
        results = per_pattern(only)
        bad = [s.name for s, r in results if r.ratio > audit.LINEAR_RATIO]
        listed = f": {', '.join(bad)}" if bad else ""
        print(f"\n{len(results)} patterns, {len(bad)} superlinear{listed}")
        families.update(_pattern_families(results))
    per_rule(families, args.n)


if __name__ == "__main__":
    main()
