"""Paths in diff headers: git's C-style quoting, and the a/ b/ prefixes."""

from __future__ import annotations

import re

_QUOTED = re.compile(r'^"(.*)"$', re.DOTALL)
# One token at a time, left to right: an octal byte, another escape, or a run of plain text.
# (Two passes would read the `\\303` of an escaped backslash followed by digits as a byte.)
_TOKEN = re.compile(r"\\([0-7]{3})|\\(.)|([^\\]+|\\$)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_QUOTE_ESCAPES = {v: k for k, v in _ESCAPES.items()}


def unquote_path(path: str) -> str:
    """Undo git's C-style quoting of paths with non-ASCII or special characters."""
    match = _QUOTED.match(path)
    if not match:
        return path
    raw = bytearray()
    for octal, escaped, plain in _TOKEN.findall(match.group(1)):
        if octal:
            raw.append(int(octal, 8) & 0xFF)
        else:
            raw += (_ESCAPES.get(escaped, escaped) if escaped else plain).encode(
                "utf-8", "surrogatepass"
            )
    return raw.decode("utf-8", errors="replace")


def quote_path(path: str) -> str:
    """Quote a path the way git does when it holds a quote, backslash or control character.

    Non-ASCII stays as UTF-8 (git's `core.quotepath=false` form), which unidiff reads as is.
    """
    if not any(c in _QUOTE_ESCAPES or ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return path
    out = []
    for c in path:
        if c in _QUOTE_ESCAPES:
            out.append("\\" + _QUOTE_ESCAPES[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\{ord(c):03o}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def strip_prefix(path: str | None) -> str | None:
    if path is None or path == "/dev/null":
        return None
    path = unquote_path(path)
    if path[:2] in ("a/", "b/"):
        return path[2:]
    return path
