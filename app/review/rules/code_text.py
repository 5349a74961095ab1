"""Blocks of source text read line by line: where a Python, JS/TS or Ruby body ends, a
bracketed expression that spans lines joined into one, and the functions a set of files define.

Nothing here parses a language fully: the readers need where a decorator, a signature or a
handler ends, and which function a name refers to. Every reader is bounded (lines per block,
characters per line), so hostile input costs linear time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_LINE = 400  # characters of one line a reader looks at
MAX_JOIN = 40  # lines a decorator, signature or call may span
MAX_BODY = 400  # lines of one function body

_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*+\"|'(?:[^'\\\n]|\\.)*+'|`(?:[^`\\\n]|\\.)*+`")


def lang_of(path: str) -> str:
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if ext in ("py", "pyi"):
        return "python"
    if ext in ("js", "jsx", "ts", "tsx", "mjs", "cjs", "mts", "cts"):
        return "js"
    if ext in ("rb", "rake"):
        return "ruby"
    return ""


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def strip_strings(line: str, limit: int = MAX_LINE) -> str:
    """`line` with string contents blanked (quotes and length kept), brackets in them ignored."""
    return _STRING.sub(_blank, line[:limit])


def _blank(m: re.Match[str]) -> str:
    s = m.group(0)
    return s[0] + " " * (len(s) - 2) + s[-1]


def depth_change(line: str) -> int:
    code = strip_strings(line).split("#", 1)[0] if "#" in line else strip_strings(line)
    return sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")


def join_balanced(lines: Sequence[str], start: int, stop_at_colon: bool = False) -> int:
    """The index of the last line of the bracketed expression opening on `lines[start]`.

    With `stop_at_colon`, a Python `def` signature: it ends on the first line at depth 0 that
    ends with ":".
    """
    depth = 0
    last = min(len(lines), start + MAX_JOIN) - 1
    for i in range(start, last + 1):
        depth += depth_change(lines[i])
        if depth <= 0 and (not stop_at_colon or lines[i].split("#", 1)[0].rstrip().endswith(":")):
            return i
    return last


def python_block_end(lines: Sequence[str], head_end: int, indent: int) -> int:
    """The last line of the Python block whose header ends at `head_end`, indented `indent`."""
    last = head_end
    for i in range(head_end + 1, min(len(lines), head_end + MAX_BODY)):
        text = lines[i]
        if not text.strip():
            continue
        if indent_of(text) <= indent:
            break
        last = i
    return last


def brace_block_end(lines: Sequence[str], start: int) -> int:
    """The line where the braces (or parentheses) opened from `lines[start]` on close again."""
    depth, opened = 0, False
    for i in range(start, min(len(lines), start + MAX_BODY)):
        code = strip_strings(lines[i])
        if "//" in code:
            code = code.split("//", 1)[0]
        for c in code:
            if c in "{(":
                depth, opened = depth + 1, True
            elif c in "})":
                depth -= 1
        if opened and depth <= 0:
            return i
    return min(len(lines), start + MAX_BODY) - 1


def ruby_block_end(lines: Sequence[str], start: int) -> int:
    """The `end` closing the `def`/`class` on `lines[start]` (same indentation)."""
    indent = indent_of(lines[start])
    for i in range(start + 1, min(len(lines), start + MAX_BODY)):
        text = lines[i]
        if text.strip() == "end" and indent_of(text) <= indent:
            return i
    return min(len(lines), start + MAX_BODY) - 1


_PY_DEF = re.compile(r"^([ \t]*+)(?:async[ \t]++)?def[ \t]++(\w++)")
_JS_DEF = re.compile(
    r"^[ \t]*+(?:export[ \t]++)?(?:default[ \t]++)?(?:async[ \t]++)?function\b[ \t*]*+(\w++)"
    r"|^[ \t]*+(?:export[ \t]++)?(?:const|let|var)[ \t]++(\w++)[ \t]*+(?::[^=]{0,80})?=[ \t]*+"
    r"(?:async\b[ \t]*+)?(?:function\b|\(|\w++[ \t]*+=>)"
    r"|^[ \t]++(?:(?:public|private|protected|static|async|override)[ \t]++)*+(\w++)[ \t]*+\("
)
_RB_DEF = re.compile(r"^[ \t]*+def[ \t]++(?:self\.)?(\w++[!?]?)")
_JS_KEYWORDS = frozenset({"if", "for", "while", "switch", "catch", "return", "function", "await"})


@dataclass(frozen=True, slots=True)
class Definition:
    path: str
    name: str
    lines: tuple[str, ...]  # the whole file's lines
    start: int  # index of the `def`/`function` line
    end: int  # index of the body's last line

    @property
    def text(self) -> str:
        return "\n".join(self.lines[self.start : self.end + 1])


def definitions(path: str, lines: Sequence[str]) -> Iterable[Definition]:
    """The functions and methods `lines` (a file at `path`) define, with their bodies."""
    lang = lang_of(path)
    kept = tuple(lines)
    for i, line in enumerate(kept):
        if "def" not in line and lang != "js":
            continue
        head = line[:MAX_LINE]
        if lang == "python" and (m := _PY_DEF.match(head)):
            end = join_balanced(kept, i, stop_at_colon=True)
            yield Definition(path, m.group(2), kept, i, python_block_end(kept, end, len(m[1])))
        elif lang == "ruby" and (m := _RB_DEF.match(head)):
            yield Definition(path, m.group(1), kept, i, ruby_block_end(kept, i))
        elif lang == "js" and (m := _JS_DEF.match(head)):
            name = m.group(1) or m.group(2) or m.group(3)
            if name in _JS_KEYWORDS or (m.group(3) and not _opens_body(kept, i)):
                continue  # a call statement, not a method definition
            yield Definition(path, name, kept, i, brace_block_end(kept, i))


def _opens_body(lines: Sequence[str], start: int) -> bool:
    """Whether the signature starting on `lines[start]` opens a `{` body (not a `;` call)."""
    for i in range(start, min(len(lines), start + MAX_JOIN)):
        end = lines[i][:MAX_LINE].rstrip()
        if end.endswith("{"):
            return True
        if end.endswith((";", "}")) or (i > start and not end):
            return False
    return False
