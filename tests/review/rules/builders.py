"""Write small unified diffs by hand: an added file from its content, a hunk from its lines."""

from __future__ import annotations

import textwrap

from app.review.diff import parse_diff
from app.review.findings import Finding
from app.review.rules import RuleContext, run_rules


def added(path: str, content: str) -> str:
    lines = textwrap.dedent(content).strip("\n").split("\n")
    body = "".join(f"+{ln}\n" for ln in lines)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


def removed(path: str, content: str) -> str:
    lines = textwrap.dedent(content).strip("\n").split("\n")
    body = "".join(f"-{ln}\n" for ln in lines)
    return (
        f"diff --git a/{path} b/{path}\ndeleted file mode 100644\n--- a/{path}\n+++ /dev/null\n"
        f"@@ -1,{len(lines)} +0,0 @@\n{body}"
    )


def modified(path: str, hunk: str, old_start: int = 1, new_start: int | None = None) -> str:
    """`hunk` lines start with " ", "+" or "-" (after dedent); counts are computed."""
    lines = textwrap.dedent(hunk).strip("\n").split("\n")
    lines = [ln if ln[:1] in ("+", "-", " ") else " " + ln for ln in lines]
    old_len = sum(1 for ln in lines if ln[:1] in (" ", "-"))
    new_len = sum(1 for ln in lines if ln[:1] in (" ", "+"))
    start = old_start if new_start is None else new_start
    body = "".join(f"{ln}\n" for ln in lines)
    return (
        f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
        f"@@ -{old_start},{old_len} +{start},{new_len} @@\n{body}"
    )


def review(*parts: str, ctx: RuleContext | None = None) -> list[Finding]:
    return run_rules(parse_diff("".join(parts)), ctx or RuleContext())


def of(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]
