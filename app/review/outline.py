"""The functions and classes of a source file, read well enough to show a hunk in its context.

Not a parser: one linear pass per file over Python (indentation, brackets, triple-quoted
strings), Ruby (`def`/`class`/`module` closed by the `end` at their own indentation) and
TypeScript/JavaScript (braces, with strings, template literals and comments skipped; a brace
block counts when the statement opening it declares a class, function, method or arrow
function, or registers a route handler). Decorators belong to what they decorate. A file these
rules misread (a brace in a regex literal, an unindented Ruby `end`) yields wrong or missing
blocks, never an error: the prompt then shows the hunk as it is.

Every regular expression here is anchored, without nested quantifiers, and sees at most
`MAX_SCAN` characters of a line: a minified or hostile line costs no more than a short one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Language = Literal["python", "ruby", "brace"]
Kind = Literal["class", "def"]

MAX_SCAN = 400  # characters of one line the header patterns look at
MAX_HEADER_LINES = 12  # lines of one statement the brace reader keeps to name a block
CALLBACK = "(callback)"  # an arrow function with no name of its own

_SUFFIXES: dict[str, Language] = {
    ".py": "python",
    ".pyi": "python",
    ".rb": "ruby",
    ".rake": "ruby",
    ".ts": "brace",
    ".tsx": "brace",
    ".mts": "brace",
    ".cts": "brace",
    ".js": "brace",
    ".jsx": "brace",
    ".mjs": "brace",
    ".cjs": "brace",
}


@dataclass(frozen=True, slots=True)
class Block:
    kind: Kind
    name: str
    start: int  # first line, 1-based, decorators included
    header: int  # the line that names it
    end: int  # last line
    parent: int  # index of the enclosing block in the outline, -1 at top level


def language_of(path: str) -> Language | None:
    dot = path.rfind(".")
    return _SUFFIXES.get(path[dot:].lower()) if dot > path.rfind("/") else None


def outline(text: str, language: Language) -> tuple[Block, ...]:
    """The file's blocks, ordered by start line; each block's parent comes before it."""
    lines = text.split("\n")
    if language == "python":
        found = _python(lines)
    elif language == "ruby":
        found = _ruby(lines)
    else:
        found = _brace(lines)
    return _with_parents(found)


# --- Python -----------------------------------------------------------------------------------

_PY_HEADER = re.compile(r"[ \t]*+(?:async[ \t]++)?(def|class)[ \t]++([A-Za-z_]\w*+)")
_PY_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*+\"|'(?:[^'\\\n]|\\.)*+'")


@dataclass(slots=True)
class _Open:
    kind: Kind
    name: str
    start: int
    header: int
    indent: int


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _python(lines: Sequence[str]) -> list[tuple[Kind, str, int, int, int]]:
    out: list[tuple[Kind, str, int, int, int]] = []
    stack: list[_Open] = []
    depth = 0  # open brackets carried over from earlier lines
    quote: str | None = None  # inside a triple-quoted string that opened on an earlier line
    decorator: int | None = None  # first line of the decorators above the next def or class
    last_code = 0
    for number, full in enumerate(lines, 1):
        line = full[:MAX_SCAN] if len(full) > MAX_SCAN else full
        if quote is not None:
            if line.count(quote) % 2 == 1:
                quote = None
            last_code = number
            continue
        stripped = line.lstrip()
        if not stripped or stripped[0] == "#":
            continue
        if depth == 0:
            indent = len(line) - len(stripped)
            while stack and stack[-1].indent >= indent:
                top = stack.pop()
                out.append((top.kind, top.name, top.start, top.header, last_code))
            if stripped[0] == "@":
                decorator = decorator or number
            else:
                match = _PY_HEADER.match(line) if stripped[0] in "acd" else None
                if match is not None:
                    kind: Kind = "class" if match.group(1) == "class" else "def"
                    stack.append(_Open(kind, match.group(2), decorator or number, number, indent))
                decorator = None
        last_code = number
        code = line
        if '"' in line or "'" in line:
            for triple in ('"""', "'''"):
                if triple in line and line.count(triple) % 2 == 1:
                    quote = triple
                    code = line[: line.rfind(triple)]
                    break
            code = _PY_STRING.sub("", code.replace('"""', "").replace("'''", ""))
        if "#" in code:
            code = code.split("#", 1)[0]
        # At depth 0 a line without an opening bracket cannot open one (and closers clamp to 0).
        if depth or "(" in code or "[" in code or "{" in code:
            depth = max(0, depth + _balance(code))
    for top in reversed(stack):
        out.append((top.kind, top.name, top.start, top.header, last_code))
    return out


def _balance(code: str) -> int:
    return (
        code.count("(") + code.count("[") + code.count("{")
        - code.count(")") - code.count("]") - code.count("}")
    )  # fmt: skip


# --- Ruby -------------------------------------------------------------------------------------

_RB_HEADER = re.compile(r"[ \t]*+(def|class|module)[ \t]++([\w:.?!=<>\[\]+\-*/%~^&|]{1,120}+)")
_RB_END = re.compile(r"end\b")
_RB_MIDDLE = re.compile(r"(?:rescue|ensure|else|elsif|when|in)\b")
_RB_ONE_LINE = re.compile(r".*;[ \t]*+end\b|[^#]*\)[ \t]*+=[^=~>]")


def _ruby(lines: Sequence[str]) -> list[tuple[Kind, str, int, int, int]]:
    out: list[tuple[Kind, str, int, int, int]] = []
    stack: list[_Open] = []
    last_code = 0
    for number, full in enumerate(lines, 1):
        line = full[:MAX_SCAN]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = _indent(line)
        if _RB_MIDDLE.match(stripped):  # a method-level rescue or ensure does not end it
            last_code = number
            continue
        closing = _RB_END.match(stripped) is not None
        while stack and stack[-1].indent >= indent:
            top = stack.pop()
            if closing and top.indent == indent:
                out.append((top.kind, top.name, top.start, top.header, number))
                break
            out.append((top.kind, top.name, top.start, top.header, last_code))
        match = _RB_HEADER.match(line)
        if match is not None:
            kind: Kind = "def" if match.group(1) == "def" else "class"
            if match.group(1) == "def" and _RB_ONE_LINE.match(line):
                out.append((kind, match.group(2), number, number, number))
            else:
                stack.append(_Open(kind, match.group(2), number, number, indent))
        last_code = number
    for top in reversed(stack):
        out.append((top.kind, top.name, top.start, top.header, last_code))
    return out


# --- TypeScript / JavaScript ------------------------------------------------------------------

_KEYWORDS = frozenset(
    {"if", "for", "while", "switch", "catch", "with", "return", "else", "do", "try", "finally"}
    | {"function", "new", "typeof", "await", "yield", "super"}
)
_DECORATOR = re.compile(r"@[\w.]++(?:\([^()\n]{0,200}+\))?+")
_BR_CLASS = re.compile(r"(?:[\w ]{0,60}?)\bclass[ \t]++([A-Za-z_$][\w$]*+)")
_BR_FUNCTION = re.compile(r"(?:[\w ]{0,60}?)\bfunction\b[ \t*]*+([A-Za-z_$][\w$]*+)?")
_BR_ARROW_NAME = re.compile(r"(?:export[ \t]++)?(?:const|let|var)[ \t]++([A-Za-z_$][\w$]*+)")
_BR_PROPERTY = re.compile(r"([A-Za-z_$][\w$]*+)[ \t]*+[:=]")
# Searched: a name starts only where an identifier starts, or every start inside a long
# identifier rescans the rest of it.
_BR_ROUTE = re.compile(
    r"(?<![\w$])([A-Za-z_$][\w$]*+)\.(get|post|put|patch|delete|all|use|route)[ \t]*+\("
)
_BR_METHOD = re.compile(
    r"(?:(?:public|private|protected|static|async|readonly|override|get|set|abstract)[ \t]++)*+"
    r"\*?([A-Za-z_$][\w$]*+)[ \t]*+(?:<[^<>()]{0,100}+>)?+[ \t]*+\("
)


@dataclass(slots=True)
class _Brace:
    start: int  # first line of the statement that opened it
    line: int  # line of the `{`
    named: tuple[Kind, str] | None


_BR_NEXT = re.compile(r"[{};'\"`]|//|/\*")


def _closing(line: str, at: int, quote: str) -> int:
    """Index just past the quote closing a string that starts at `at`, or -1 (open at the end).

    Each `find` moves forward and each run of backslashes is counted once: linear."""
    while True:
        end = line.find(quote, at)
        if end < 0:
            return -1
        slashes = 0
        while end - slashes - 1 >= at and line[end - slashes - 1] == "\\":
            slashes += 1
        if slashes % 2 == 0:
            return end + 1
        at = end + 1


def _brace(lines: Sequence[str]) -> list[tuple[Kind, str, int, int, int]]:
    out: list[tuple[Kind, str, int, int, int]] = []
    stack: list[_Brace] = []
    mode = ""  # "", "`" (a template literal spans lines) or "/*"
    statement: list[tuple[int, str]] = []  # (line, text) of the statement so far, bounded
    for number, full in enumerate(lines, 1):
        line = full[: MAX_SCAN * 4]
        piece: list[str] = []
        i, n = 0, len(line)
        while i < n:
            if mode == "/*":
                end = line.find("*/", i)
                if end < 0:
                    break
                mode, i = "", end + 2
                continue
            if mode == "`":
                end = _closing(line, i, "`")
                if end < 0:
                    break
                mode, i = "", end
                continue
            token = _BR_NEXT.search(line, i)
            if token is None:
                piece.append(line[i:])
                break
            piece.append(line[i : token.start()])
            found, i = token.group(), token.end()
            if found == "//":
                break
            if found == "/*":
                mode = "/*"
            elif found == "`":
                mode = "`"
            elif found in "'\"":
                end = _closing(line, i, found)
                i = n if end < 0 else end  # an unclosed quote does not span lines
            elif found == "{":
                text = " ".join(t for _, t in statement) + " " + "".join(piece)
                first = statement[0][0] if statement and statement[0][1].strip() else number
                stack.append(_Brace(first, number, _name_of(text)))
                statement, piece = [], []
            elif found == "}":
                if stack:
                    top = stack.pop()
                    if top.named is not None:
                        kind, name = top.named
                        out.append((kind, name, top.start, top.line, number))
                statement, piece = [], []
            else:  # ";"
                statement, piece = [], []
        rest = "".join(piece)
        if rest.strip():
            statement.append((number, rest))
            if len(statement) > MAX_HEADER_LINES:
                del statement[0]
    return out


def _name_of(statement: str) -> tuple[Kind, str] | None:
    """What a `{` opens, judged from the statement before it (decorators dropped)."""
    text = _DECORATOR.sub(" ", statement[-MAX_SCAN:]).strip()
    if not text or text.endswith(("=", "(", ",", ":", "return", "[")):
        return None  # an object literal or a parameter default, not a declaration
    if match := _BR_CLASS.match(text):
        return ("class", match.group(1))
    if (match := _BR_ROUTE.search(text)) and ("=>" in text or "function" in text):
        return ("def", f"{match.group(1)}.{match.group(2)}(…)")
    if match := _BR_FUNCTION.match(text):
        return ("def", match.group(1) or "function")
    if "=>" in text:
        arrow = _BR_ARROW_NAME.match(text) or _BR_PROPERTY.match(text)
        return ("def", arrow.group(1) if arrow else CALLBACK)
    if text.endswith(")") or ")" in text[-120:]:
        match = _BR_METHOD.match(text)
        if match is not None and match.group(1) not in _KEYWORDS:
            return ("def", match.group(1))
    return None


# --- blocks and what encloses a line ----------------------------------------------------------


def _with_parents(found: Sequence[tuple[Kind, str, int, int, int]]) -> tuple[Block, ...]:
    ordered = sorted(found, key=lambda b: (b[2], -b[4]))
    out: list[Block] = []
    open_: list[int] = []  # indexes of blocks containing the current start, innermost last
    for kind, name, start, header, end in ordered:
        while open_ and out[open_[-1]].end < start:
            open_.pop()
        out.append(Block(kind, name, start, header, end, open_[-1] if open_ else -1))
        open_.append(len(out) - 1)
    return tuple(out)


class Enclosing:
    """For each line, the innermost block containing it: built once per file, linear."""

    def __init__(self, blocks: Sequence[Block], line_count: int) -> None:
        self.blocks = tuple(blocks)
        self._inner = [-1] * (line_count + 2)
        # Parents come first, so a child overwrites its parent's lines: each line is written
        # once per block around it, lines times nesting depth in all.
        for index, block in enumerate(self.blocks):
            for line in range(max(block.start, 1), min(block.end, line_count) + 1):
                self._inner[line] = index

    def of(self, first: int, last: int) -> Block | None:
        """The innermost function (else class) holding lines `first`..`last`, if any."""
        if not 0 < first < len(self._inner):
            return None
        index = self._inner[first]
        holder: Block | None = None
        while index != -1:
            block = self.blocks[index]
            if block.start <= first and block.end >= last:
                if block.kind == "def":
                    return block
                holder = holder or block
            index = block.parent
        return holder


def outline_lines(blocks: Sequence[Block], *, limit: int) -> list[str]:
    """A short table of contents: classes and the functions at most one level inside them."""
    depth: list[int] = []
    out: list[str] = []
    for block in blocks:
        level = 0 if block.parent == -1 else depth[block.parent] + 1
        depth.append(level)
        if level > 1 or (level == 1 and blocks[block.parent].kind != "class"):
            continue
        if block.name == CALLBACK and level > 0:
            continue
        if len(out) == limit:
            out.append("…")
            break
        out.append(f"{'  ' * level}{block.kind} {block.name} (lines {block.start}-{block.end})")
    return out
