"""Routes of a whole JS/TS file with their guards: Express (and look-alikes) and NestJS.

Express: `<router>.<verb>('/path', mw1, mw2, handler)` with the call spread over lines; every
argument between the path and the handler is middleware, a guard when its name or definition
says so. `<router>.use(mw)` covers the routes declared after it on the same object.
NestJS: methods under `@Get()`/`@Post()`… in a `@Controller` class; `@UseGuards(...)` and
other guard decorators on the class cover every method, on a method only that one;
`@Public()`-style decorators are opt-outs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.review.rules.code_text import MAX_LINE, brace_block_end, strip_strings
from app.review.rules.guard_words import GuardJudge
from app.review.rules.route_model import Guard, Route

_EXPRESS = re.compile(r"^[ \t]*+(?:await[ \t]++)?(\w++)\.(get|post|put|patch|delete|all|use)\(")
_PATH = re.compile(r"^\s*+[\"'`]([^\"'`\n]{0,300})[\"'`]")
_DECORATOR = re.compile(r"^[ \t]*+@(\w++)")
_NEST_VERB = re.compile(
    r"^@(Get|Post|Put|Patch|Delete|All|Head|Options)\(\s*+(?:[\"'`]([^\"'`\n]{0,300}))?"
)
_CLASS = re.compile(
    r"^[ \t]*+(?:export[ \t]++)?(?:default[ \t]++)?(?:abstract[ \t]++)?class[ \t]++(\w++)"
)
_METHOD = re.compile(
    r"^[ \t]*+(?:(?:public|private|protected|static|async)[ \t]++)*+(\w++)[ \t]*+\("
)
_CALLEE = re.compile(r"^[\w.$]++")
_OPT_OUT = frozenset({"Public", "SkipAuth", "AllowAnonymous", "IsPublic", "PublicRoute", "NoAuth"})
_MAX_CALL = 2000  # characters of a call's arguments read
_HEAD_LINES = 15  # lines an Express route call may spread before its handler starts
_HANDLER_START = re.compile(r"=>|\bfunction\b")


def _args(text: str) -> list[str]:
    """Top-level comma-separated arguments of the call whose "(" opens `text`."""
    text = text[:_MAX_CALL]
    code = strip_strings(text, _MAX_CALL)
    out, depth, start = [], 0, 1
    for k, c in enumerate(code):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                out.append(text[start:k])
                return [a.strip() for a in out]
        elif c == "," and depth == 1:
            out.append(text[start:k])
            start = k + 1
    out.append(text[start:])
    return [a.strip() for a in out]


def _names(arg: str) -> list[str]:
    """The middleware names an argument holds: `auth`, `requireRole('x')`, `[a, b]`."""
    if arg.startswith("["):
        return [n for a in _args("(" + arg[1:]) for n in _names(a)]
    m = _CALLEE.match(arg)
    return [m.group(0)] if m else []


def _inline_handler(arg: str) -> bool:
    return arg.startswith(("async", "(", "function")) or bool(re.match(r"^\w++\s*+=>", arg))


class _Express:
    def __init__(self, lines: Sequence[str], judge: GuardJudge) -> None:
        self.lines, self.judge = lines, judge
        self.used: dict[str, list[Guard]] = {}  # router object -> guards from .use()

    def route(self, i: int, obj: str, verb: str) -> Route | None:
        head = [self.lines[i][:MAX_LINE]]
        for k in range(i + 1, min(len(self.lines), i + _HEAD_LINES)):
            if _HANDLER_START.search(head[-1]) or strip_strings(head[-1]).rstrip().endswith(";"):
                break
            head.append(self.lines[k][:MAX_LINE])
        joined = " ".join(h.strip() for h in head)
        args = _args(joined[joined.find("(", joined.find(verb)) :])
        path_match = _PATH.match(args[0]) if args else None
        if verb == "use":
            rest = args[1:] if path_match else args
            for arg in rest:
                for name in _names(arg):
                    if self.judge.is_guard(name):
                        guard = Guard(name, i + 1, "router", self.lines[i].strip()[:200])
                        self.used.setdefault(obj, []).append(guard)
            return None
        if path_match is None:
            return None
        middle = args[1:-1]
        guards = [
            Guard(name, self.line_of(name, i), "route", self.lines[self.line_of(name, i)].strip())
            for arg in middle
            for name in _names(arg)
            if self.judge.is_guard(name)
        ]
        guards += self.used.get(obj, []) + (self.used.get("app", []) if obj != "app" else [])
        handler = args[-1] if len(args) > 1 and not _inline_handler(args[-1]) else ""
        return Route(
            "express",
            i + 1,
            "",
            obj,
            frozenset({"ANY" if verb == "all" else verb.upper()}),
            path_match.group(1),
            i + 1,
            brace_block_end(self.lines, i) + 1,
            tuple(guards),
            handler=_handler_name(handler),
        )

    def line_of(self, name: str, i: int) -> int:
        for k in range(i, min(len(self.lines), i + _HEAD_LINES)):
            if name in self.lines[k]:
                return k
        return i


def _handler_name(arg: str) -> str:
    m = _CALLEE.match(arg)
    return m.group(0).rsplit(".", 1)[-1] if m else ""


def _decorator_text(lines: Sequence[str], i: int) -> tuple[str, int]:
    end = brace_block_end(lines, i) if "(" in lines[i] else i
    end = min(end, i + 20)
    return " ".join(ln[:MAX_LINE].strip() for ln in lines[i : end + 1]), end


def _decorator_guards(
    text: str, line: int, scope: str, lines: Sequence[str], judge: GuardJudge
) -> tuple[list[Guard], str]:
    m = _DECORATOR.match(text)
    if m is None:
        return [], ""
    name = m.group(1)
    if name in _OPT_OUT or (name == "SetMetadata" and re.search(r"public|skipauth", text, re.I)):
        return [], name
    where = lines[line].strip()[:200]
    if name == "UseGuards":
        args = _args(text[text.find("(") :])
        found = [n for a in args for n in _names(a)]
        return [Guard(n, line + 1, scope, where) for n in found], ""
    if judge.is_guard(name):
        return [Guard(name, line + 1, scope, where)], ""
    return [], ""


def read_js(path: str, text: str, judge: GuardJudge) -> list[Route]:
    lines = text.split("\n")
    express = _Express(lines, judge)
    out: list[Route] = []
    pending: list[tuple[int, str]] = []
    controller, class_opt_out = "", ""
    class_guards: list[Guard] = []
    i = 0
    while i < len(lines):
        raw = lines[i][:MAX_LINE]
        stripped = raw.strip()
        if not stripped or stripped.startswith(("//", "*", "/*")):
            i += 1
            continue
        if stripped.startswith("@"):
            dec, end = _decorator_text(lines, i)
            pending.append((i, dec))
            i = end + 1
            continue
        if m := _CLASS.match(raw):
            controller = m.group(1) if any(t.startswith("@Controller") for _, t in pending) else ""
            class_guards, class_opt_out = [], ""
            for n, t in pending:
                found, opt = _decorator_guards(t, n, "class", lines, judge)
                class_guards += found
                class_opt_out = class_opt_out or opt
            pending = []
        elif pending and controller and (m := _METHOD.match(raw)):
            verb = next((v for _, t in pending if (v := _NEST_VERB.match(t))), None)
            if verb is not None:
                guards, opt_out = list(class_guards), class_opt_out
                for n, t in pending:
                    found, opt = _decorator_guards(t, n, "route", lines, judge)
                    guards += found
                    opt_out = opt or opt_out
                end = brace_block_end(lines, i)
                method = verb.group(1).upper()
                empty = re.match(r"^[ \t]*+(?:\w++[ \t]++)*+\w++[ \t]*+\([ \t]*+\)", raw)
                out.append(
                    Route(
                        "nest",
                        pending[0][0] + 1,
                        m.group(1),
                        controller,
                        frozenset({"ANY" if method == "ALL" else method}),
                        verb.group(2) or "",
                        pending[0][0] + 1,
                        end + 1,
                        tuple(guards),
                        opt_out,
                        static=bool(empty) and ":" not in (verb.group(2) or ""),
                        decorators=tuple(
                            dm.group(1) for _, t in pending if (dm := _DECORATOR.match(t))
                        ),
                    )
                )
            pending = []
        elif m := _EXPRESS.match(raw):
            route = express.route(i, m.group(1), m.group(2))
            if route is not None:
                out.append(route)
            pending = []
        else:
            pending = []
        i += 1
    return out
