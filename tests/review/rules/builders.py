"""Write small unified diffs by hand: an added file from its content, a hunk from its lines."""

from __future__ import annotations

import difflib
import textwrap

from app.review.diff import parse_diff
from app.review.file_context import FileContext, FileText
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


def diff_of(base: dict[str, str], head: dict[str, str]) -> str:
    """A unified diff (3 lines of context) turning `base` into `head`, path by path."""
    out = []
    for path in sorted(set(base) | set(head)):
        old, new = base.get(path), head.get(path)
        if old == new:
            continue
        a = textwrap.dedent(old).lstrip("\n").splitlines(keepends=True) if old is not None else []
        b = textwrap.dedent(new).lstrip("\n").splitlines(keepends=True) if new is not None else []
        header = f"diff --git a/{path} b/{path}\n"
        if old is None:
            header += "new file mode 100644\n"
        elif new is None:
            header += "deleted file mode 100644\n"
        lines = list(
            difflib.unified_diff(
                a,
                b,
                "/dev/null" if old is None else f"a/{path}",
                "/dev/null" if new is None else f"b/{path}",
            )
        )
        out.append(header + "".join(ln if ln.endswith("\n") else ln + "\n" for ln in lines))
    return "".join(out)


def whole(
    base: dict[str, str],
    head: dict[str, str],
    context: dict[str, str] | None = None,
    ctx: RuleContext | None = None,
) -> list[Finding]:
    """Review the change from `base` to `head` with every file's whole text at both sides (as
    gathering gives it), plus unchanged `context` files (a router module, a base class)."""
    texts = [
        FileText(
            path,
            textwrap.dedent(head[path]).lstrip("\n") if path in head else None,
            textwrap.dedent(base[path]).lstrip("\n") if path in base else None,
        )
        for path in sorted(set(base) | set(head))
    ]
    unchanged = {p: textwrap.dedent(t).lstrip("\n") for p, t in (context or {}).items()}
    texts += [FileText(p, t, t) for p, t in unchanged.items()]
    diff = parse_diff(diff_of(base, head))
    return run_rules(diff, ctx or RuleContext(), FileContext.of(texts))
