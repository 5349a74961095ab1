"""Find every regular expression in `app.review` and measure how its work grows on hostile input.

Used by `tests/review/test_regex_linear.py` (the gate) and `bench/regex_worst.py` (the figures).

Finding the patterns, three ways, so that none can be added unseen:
- every compiled pattern reachable from a module's globals (also inside tuples, dicts,
  dataclasses and classes defined there);
- every `re.<function>(...)` call in the source: its pattern argument is evaluated in the
  module's namespace (a literal, or an f-string of module constants);
- a call whose pattern is built at run time (from a local variable) must be listed in
  `DYNAMIC` with a function that builds hostile examples of it; `source_problems` reports
  any that is not, and any way of reaching `re` the scan cannot follow (`from re import`,
  `import re as`, the third-party `regex` module).

Measuring a pattern: candidate inputs are built from its own pieces (`hostile_inputs`): a
prefix that leads the engine into a repeat, then one piece (a literal run, a repeat body, a
representative character of a class) repeated, then a tail that makes the match fail. Each
candidate runs through `finditer` to the end and `fullmatch` (the two ways a search can be
forced to backtrack most). `scaling` times the worst candidates at n and 8n characters (CPU
time of this thread, the minimum of several runs): linear work gives a ratio near 8, quadratic
work near 64. A run that exceeds a generous CPU cap is interrupted (SIGVTALRM: the regex engine
checks for signals) and counts as unbounded growth.
"""

from __future__ import annotations

import ast
import gc
import importlib
import inspect
import pkgutil
import re
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, is_dataclass
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from types import ModuleType
from typing import Any

PACKAGE = "app.review"
_RE_FUNCTIONS = {
    "compile",
    "search",
    "match",
    "fullmatch",
    "findall",
    "finditer",
    "sub",
    "subn",
    "split",
}
# Position of the `flags` argument of each `re` function (2 for the rest: pattern, string).
_FLAGS_AT = {"compile": 1, "sub": 4, "subn": 4, "split": 3}


@dataclass
class Subject:
    pattern: re.Pattern[str]
    where: list[str]  # every place that holds or builds it
    fullmatch: bool = False  # some caller uses it with fullmatch (forced to end at the end)
    search: bool = True  # some caller searches with it (False: only matched or fullmatched)
    match: bool = False  # some caller matches it at the start

    @property
    def name(self) -> str:
        return self.where[0]


def modules(package: str = PACKAGE) -> list[ModuleType]:
    root = importlib.import_module(package)
    out = [root]
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        out.append(importlib.import_module(info.name))
    return out


def _reachable(obj: Any, where: str, depth: int, module: str) -> Iterator[tuple[str, Any]]:
    if isinstance(obj, re.Pattern):
        yield where, obj
        return
    if depth <= 0 or isinstance(obj, str | bytes | int | float | bool | type(None)):
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _reachable(v, f"{where}[{k!r}]", depth - 1, module)
    elif isinstance(obj, tuple | list | set | frozenset):
        for i, v in enumerate(obj):
            yield from _reachable(v, f"{where}[{i}]", depth - 1, module)
    elif is_dataclass(obj) and not isinstance(obj, type):
        for f in fields(obj):
            yield from _reachable(
                getattr(obj, f.name, None), f"{where}.{f.name}", depth - 1, module
            )
    elif isinstance(obj, type) and obj.__module__ == module:
        for k, v in vars(obj).items():
            yield from _reachable(v, f"{where}.{k}", depth - 1, module)


def module_patterns(mod: ModuleType) -> Iterator[tuple[str, re.Pattern[str]]]:
    for name, value in vars(mod).items():
        if isinstance(value, ModuleType):
            continue
        if isinstance(value, type) and value.__module__ != mod.__name__:
            continue
        for where, p in _reachable(value, f"{mod.__name__}.{name}", 4, mod.__name__):
            if isinstance(p.pattern, str):
                yield where, p


@dataclass(frozen=True)
class Call:
    module: ModuleType
    line: int
    function: str  # the enclosing function ("" at module level)
    node: ast.Call

    @property
    def where(self) -> str:
        return f"{self.module.__name__}:{self.line}"


def _calls(mod: ModuleType) -> Iterator[Call]:
    source = inspect.getsource(mod)
    tree = ast.parse(source)
    parents: dict[ast.AST, ast.AST] = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            parents[child] = parent
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in _RE_FUNCTIONS
        ):
            continue
        up: ast.AST | None = node
        while up is not None and not isinstance(up, ast.FunctionDef | ast.AsyncFunctionDef):
            up = parents.get(up)
        function = up.name if isinstance(up, ast.FunctionDef | ast.AsyncFunctionDef) else ""
        yield Call(mod, node.lineno, function, node)


def _argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _evaluate(call: Call) -> re.Pattern[str] | None:
    """The pattern `call` uses, when it is built from module-level names only."""
    attr = call.node.func.attr  # type: ignore[attr-defined]
    pattern = _argument(call.node, 0, "pattern")
    flags = _argument(call.node, _FLAGS_AT.get(attr, 2), "flags")
    namespace = dict(vars(call.module))
    try:
        value = eval(  # noqa: S307 - our own source, evaluated in its own module
            compile(ast.Expression(pattern), call.where, "eval"), namespace
        )
        flag_value = (
            0
            if flags is None
            else eval(compile(ast.Expression(flags), call.where, "eval"), namespace)  # noqa: S307
        )
    except NameError:
        return None
    if isinstance(value, re.Pattern):
        return value
    return re.compile(value, flag_value)


def _dynamic_hints() -> list[re.Pattern[str]]:
    """`hinted`'s folded-word regex for every `*_FOLDED` word list a module holds."""
    from app.review.rules.hints import _folded_regex

    lists = {
        tuple(value)
        for mod in modules()
        for name, value in vars(mod).items()
        if name.endswith("FOLDED") and isinstance(value, tuple) and value
    }
    return [_folded_regex(words) for words in sorted(lists)]


# Patterns built at run time: (module, enclosing function) -> (hostile examples of them,
# whether callers only ever fullmatch them).
DYNAMIC: dict[tuple[str, str], tuple[Callable[[], list[re.Pattern[str]]], bool]] = {
    ("app.review.rules.hints", "_folded_regex"): (_dynamic_hints, False),
}


def source_problems(package: str = PACKAGE) -> list[str]:
    """Ways of building or reaching a regex that the audit cannot see (must be empty)."""
    problems = []
    for mod in modules(package):
        tree = ast.parse(inspect.getsource(mod))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in ("re", "regex", "sre_compile"):
                problems.append(f"{mod.__name__}:{node.lineno}: `from {node.module} import`")
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in ("regex", "sre_compile", "sre_parse") or (
                        alias.name == "re" and alias.asname not in (None, "re")
                    ):
                        problems.append(f"{mod.__name__}:{node.lineno}: `import {alias.name}`")
        for call in _calls(mod):
            if _evaluate(call) is None and (mod.__name__, call.function) not in DYNAMIC:
                problems.append(
                    f"{call.where}: re.{call.node.func.attr}() with a pattern built at run "  # type: ignore[attr-defined]
                    f"time in {call.function or 'module code'}; hoist it to a module constant "
                    "or register a builder in bench/regex_audit.DYNAMIC"
                )
    return problems


def subjects(package: str = PACKAGE) -> list[Subject]:
    """Every distinct pattern in `package`, with every place that holds it."""
    found: dict[tuple[str, int], Subject] = {}
    mods = modules(package)
    sources = "\n".join(inspect.getsource(m) for m in mods)

    def add(where: str, p: re.Pattern[str], uses: set[str]) -> None:
        """`uses`: the methods callers use it with; empty when unknown (then: all of them)."""
        key = (p.pattern, p.flags)
        if key not in found:
            found[key] = Subject(p, [], search=False)
        subject = found[key]
        subject.where.append(where)
        subject.fullmatch |= "fullmatch" in uses or not uses
        subject.match |= "match" in uses
        subject.search |= not uses or bool(uses - {"match", "fullmatch", "compile"})

    for mod in mods:
        for where, p in module_patterns(mod):
            name = where.rsplit(".", 1)[-1].split("[", 1)[0]
            # A private name is used in its own module only (another module's `_WORDS` is
            # another pattern); a public one anywhere.
            where_used = inspect.getsource(mod) if name.startswith("_") else sources
            calls = rf"\b{re.escape(name)}\.({'|'.join(_RE_FUNCTIONS)})\("
            uses = set(re.findall(calls, where_used))
            add(where, p, uses)
        for call in _calls(mod):
            p = _evaluate(call)
            method: str = call.node.func.attr  # type: ignore[attr-defined]
            if p is not None and method == "compile":
                # How a compiled constant is used was read from its name's calls above.
                add(call.where, p, {"compile"} if (p.pattern, p.flags) in found else set())
            elif p is not None:
                add(call.where, p, {method})
            elif (mod.__name__, call.function) in DYNAMIC:
                build, only = DYNAMIC[(mod.__name__, call.function)]
                for q in build():
                    add(
                        f"{call.where} ({call.function}: {q.pattern!r})",
                        q,
                        {"fullmatch"} if only else set(),
                    )
    return list(found.values())


# ---- hostile inputs built from a pattern's pieces -------------------------------------------

_ALPHABET = (
    "a0A_ -./!\n\t\x00é:=,;'\"`@#()[]{}<>*+?|\\$%&^~"
    + "".join(chr(c) for c in range(33, 127))
    + "\u200b\u017f"
)
_CATEGORY_SAMPLE = {
    C.CATEGORY_DIGIT: "0",
    C.CATEGORY_NOT_DIGIT: "a",
    C.CATEGORY_SPACE: " ",
    C.CATEGORY_NOT_SPACE: "a",
    C.CATEGORY_WORD: "a",
    C.CATEGORY_NOT_WORD: "!",
    C.CATEGORY_LINEBREAK: "\n",
    C.CATEGORY_NOT_LINEBREAK: "a",
}


def _category(cat: Any, ch: str) -> bool:
    if cat in (C.CATEGORY_DIGIT, C.CATEGORY_UNI_DIGIT):
        return ch.isdecimal()
    if cat in (C.CATEGORY_NOT_DIGIT, C.CATEGORY_UNI_NOT_DIGIT):
        return not ch.isdecimal()
    if cat in (C.CATEGORY_SPACE, C.CATEGORY_UNI_SPACE):
        return ch.isspace()
    if cat in (C.CATEGORY_NOT_SPACE, C.CATEGORY_UNI_NOT_SPACE):
        return not ch.isspace()
    if cat in (C.CATEGORY_WORD, C.CATEGORY_UNI_WORD):
        return ch.isalnum() or ch == "_"
    if cat in (C.CATEGORY_NOT_WORD, C.CATEGORY_UNI_NOT_WORD):
        return not (ch.isalnum() or ch == "_")
    return ch == "\n" if "LINEBREAK" in str(cat) and "NOT" not in str(cat) else ch != "\n"


def _in_class(items: list[tuple[Any, Any]], ch: str) -> bool:
    negate, hit = False, False
    for op, av in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            hit = hit or ord(ch) == av
        elif op is C.RANGE:
            hit = hit or av[0] <= ord(ch) <= av[1]
        elif op is C.CATEGORY:
            hit = hit or _category(av, ch)
    return hit != negate


def _class_members(items: list[tuple[Any, Any]]) -> list[str]:
    """A few characters the class accepts: its literals, range ends, category samples."""
    out: list[str] = []
    if not any(op is C.NEGATE for op, _ in items):
        for op, av in items:
            if op is C.LITERAL:
                out.append(chr(av))
            elif op is C.RANGE:
                out += [chr(av[0]), chr(av[1])]
            elif op is C.CATEGORY:
                out.append(_CATEGORY_SAMPLE.get(av, _CATEGORY_SAMPLE.get(_plain(av), "a")))
    out += [ch for ch in _ALPHABET if _in_class(items, ch)][:3]
    return [ch for ch in dict.fromkeys(out) if _in_class(items, ch)]


def _plain(cat: Any) -> Any:
    return getattr(C, str(cat).replace("_UNI", ""), cat)


_Seq = list[tuple[Any, Any]]


class _Shapes:
    """Samples of a parsed pattern's parts, and the pieces hostile inputs are made of."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.flags = pattern.flags
        self.groups: dict[int, str] = {}
        self.pieces: dict[str, None] = {}
        self.prefixes: dict[str, None] = {"": None}
        tree = _parser.parse(pattern.pattern, pattern.flags)
        self._walk(list(tree.data), "")

    def sample(self, seq: _Seq, full: bool = False) -> str:
        return "".join(self._item(op, av, full) for op, av in seq)

    def _item(self, op: Any, av: Any, full: bool) -> str:
        if op is C.LITERAL:
            return chr(av)
        if op is C.NOT_LITERAL:
            return "a" if av != ord("a") else "b"
        if op is C.ANY:
            return "a"
        if op is C.IN:
            members = _class_members(av)
            return members[0] if members else ""
        if op is C.BRANCH:
            return self.sample(list(av[1][0]), full)
        if op is C.SUBPATTERN:
            text = self.sample(list(av[3]), full)
            if av[0]:
                self.groups[av[0]] = text
            return text
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo = av[0] if not full else max(av[0], 1)
            return self.sample(list(av[2]), full) * min(lo, 64)
        if op is C.ATOMIC_GROUP:
            return self.sample(list(av), full)
        if op is C.GROUPREF:
            return self.groups.get(av, "")
        if op is C.GROUPREF_EXISTS:
            return self.sample(list(av[1]), full)
        return ""  # AT, ASSERT, ASSERT_NOT: zero width

    def _walk(self, seq: _Seq, prefix: str) -> None:
        run = ""
        acc = prefix
        for op, av in seq:
            if op is C.LITERAL:
                run += chr(av)
            else:
                if run:
                    self.pieces[run] = None
                run = ""
            for ch in self._atoms(op, av):
                self.pieces[ch] = None
            if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
                self.prefixes[acc] = None
                body = list(av[2])
                self.pieces[self.sample(body)] = None
                self.pieces[self.sample(body, full=True)] = None
                self._walk(body, acc)
            elif op is C.BRANCH:
                self.prefixes[acc] = None
                for alt in av[1]:
                    self.pieces[self.sample(list(alt), full=True)] = None
                    self._walk(list(alt), acc)
            elif op is C.SUBPATTERN:
                self._walk(list(av[3]), acc)
            elif op is C.ATOMIC_GROUP:
                self._walk(list(av), acc)
            elif op in (C.ASSERT, C.ASSERT_NOT):
                self._walk(list(av[1]), acc)
            elif op is C.GROUPREF_EXISTS:
                self._walk(list(av[1]), acc)
                if av[2] is not None:
                    self._walk(list(av[2]), acc)
            acc += self._item(op, av, False)
        if run:
            self.pieces[run] = None
        self.pieces.pop("", None)

    def _atoms(self, op: Any, av: Any) -> list[str]:
        if op is C.LITERAL:
            return [chr(av)]
        if op is C.IN:
            return _class_members(av)
        if op in (C.ANY, C.NOT_LITERAL):
            return ["a"]
        return []


_TAILS = ("", "\x00", "\n\x00", "!")
_EXTRA_PIECES = ("a", " ", "\n", "a ", "0")


@dataclass(frozen=True)
class Shape:
    prefix: str
    piece: str
    tail: str

    def build(self, n: int) -> str:
        room = max(n - len(self.prefix) - len(self.tail), len(self.piece))
        return self.prefix + self.piece * max(1, room // len(self.piece)) + self.tail

    def __str__(self) -> str:
        return f"{self.prefix!r} + {self.piece!r}*k + {self.tail!r}"


def hostile_shapes(pattern: re.Pattern[str], limit: int = 600) -> list[Shape]:
    s = _Shapes(pattern)
    prefixes = sorted(s.prefixes, key=len)[:16]
    pieces = sorted({**s.pieces, **dict.fromkeys(_EXTRA_PIECES)}, key=len)[:48]
    out = [Shape(p, q, t) for p in prefixes for q in pieces for t in _TAILS]
    return out[:limit]


# ---- measuring -----------------------------------------------------------------------------


PROBE = 2048  # characters in a screening input
CAP = 2.0  # CPU seconds before a run counts as unbounded (linear runs take milliseconds)
MAX_SIZE = 1 << 20
LINEAR_RATIO = 20.0  # 8x the input: ~8 when linear, ~64 when quadratic


class _Capped(Exception):
    pass


def _on_alarm(_signum: int, _frame: object) -> None:
    raise _Capped


def work(
    pattern: re.Pattern[str],
    text: str,
    cap: float,
    fullmatch: bool = True,
    search: bool = True,
    match: bool = False,
) -> float:
    """CPU seconds `pattern` spends on `text` (finditer to the end, match, fullmatch, as
    asked); inf when the run exceeds `cap` CPU seconds."""
    previous = signal.signal(signal.SIGVTALRM, _on_alarm)
    gc_was = gc.isenabled()
    gc.disable()
    start = time.thread_time()
    try:
        signal.setitimer(signal.ITIMER_VIRTUAL, cap)
        for _ in pattern.finditer(text) if search else ():
            pass
        if match and not search:  # finditer tries the start too
            pattern.match(text)
        if fullmatch:
            pattern.fullmatch(text)
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    except _Capped:
        return float("inf")
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)
        if gc_was:
            gc.enable()
    return time.thread_time() - start


def cpu(fn: Callable[[], object], cap: float = CAP) -> float:
    """CPU seconds `fn()` takes, inf when it exceeds `cap` (an interrupted run)."""
    previous = signal.signal(signal.SIGVTALRM, _on_alarm)
    start = time.thread_time()
    try:
        signal.setitimer(signal.ITIMER_VIRTUAL, cap)
        fn()
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    except _Capped:
        return float("inf")
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)
    return time.thread_time() - start


def growth(build: Callable[[int], Callable[[], object]], n: int, runs: int = 5) -> float:
    """CPU time at 8n over CPU time at n (minimum of `runs` each) of `build(size)()`."""

    def at(size: int) -> float:
        job = build(size)
        return min(cpu(job) for _ in range(runs))

    small = at(n)
    large = at(8 * n)
    return float("inf") if large == float("inf") else large / max(small, 1e-7)


def best_of(subject: Subject, text: str, runs: int, cap: float) -> float:
    best = float("inf")
    for _ in range(runs):
        t = work(subject.pattern, text, cap, subject.fullmatch, subject.search, subject.match)
        best = min(best, t)
        if t == float("inf"):
            break
    return best


@dataclass(frozen=True)
class Scaling:
    shape: Shape
    n: int  # the smaller size; the larger is 8n
    small: float  # CPU seconds at n
    large: float  # CPU seconds at 8n (inf: capped)

    @property
    def ratio(self) -> float:
        if self.large == float("inf"):
            return float("inf")
        return self.large / max(self.small, 1e-7)

    def __str__(self) -> str:
        large = "capped" if self.large == float("inf") else f"{self.large * 1e3:.2f} ms"
        return (
            f"x{self.ratio:.1f} from {self.n:,} to {8 * self.n:,} chars "
            f"({self.small * 1e3:.2f} ms -> {large}) on {self.shape}"
        )


def screen(subject: Subject, shapes: Iterable[Shape], keep: int = 3) -> list[Shape]:
    """The `keep` shapes that cost the pattern most at a small size (the slowest first)."""
    costs = []
    for shape in shapes:
        t = best_of(subject, shape.build(PROBE), 1, 0.25)
        if t == float("inf"):
            return [shape]
        costs.append((t, shape))
    costs.sort(key=lambda c: -c[0])
    return [s for _, s in costs[:keep]]


def scaling(subject: Subject, shape: Shape, runs: int = 5) -> Scaling:
    """Time at n and 8n characters, n grown until the small run is measurable (8n <= 1 MB).

    The two sizes are timed alternately and the minimum of each kept, so that load on the
    machine (other processes, frequency changes) weighs on both alike.
    """
    n = 8192
    small = best_of(subject, shape.build(n), 2, CAP)
    while small < 1e-3 and n * 16 <= MAX_SIZE:
        n *= 2
        small = best_of(subject, shape.build(n), 2, CAP)
    if small == float("inf"):
        # Unbounded already at n: report the growth from a tiny input (still a ratio).
        tiny = max(n // 64, 16)
        return Scaling(shape, tiny, best_of(subject, shape.build(tiny), runs, CAP), small)
    small_text, large_text = shape.build(n), shape.build(8 * n)
    large = float("inf")
    for _ in range(runs):
        small = min(small, best_of(subject, small_text, 1, CAP))
        large = min(large, best_of(subject, large_text, 1, CAP))
        if large == float("inf"):
            break
    return Scaling(shape, n, small, large)


def worst(subject: Subject, keep: int = 3, runs: int = 5) -> Scaling:
    """The worst growth among the pattern's most expensive hostile inputs."""
    shapes = screen(subject, hostile_shapes(subject.pattern), keep)
    return max((scaling(subject, s, runs) for s in shapes), key=lambda r: r.ratio)


def linear(subject: Subject, attempts: int = 3) -> Scaling:
    """`worst`, measured again while it looks superlinear (a noisy machine can make a linear
    pattern look so once; a superlinear one looks so every time): the gate's verdict."""
    result = worst(subject)
    for _ in range(attempts - 1):
        if result.ratio <= LINEAR_RATIO or result.large == float("inf"):
            break
        again = scaling(subject, result.shape, runs=9)
        result = min(result, again, key=lambda r: r.ratio)
    return result
