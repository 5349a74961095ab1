"""Path globs with git's own semantics (those of `.gitignore`), matched by `pathspec`.

A pattern without a "/" (other than a trailing one) matches a name at any depth; one with a "/"
is anchored at the repository root; "**" spans directories; "[xy]" and "[!x]" are character
classes; a trailing "/" matches a directory only (so everything below it, never a file of that
name); a leading "!" brings back what an earlier pattern matched; a later pattern wins.

Matching runs on RE2 (pathspec's `re2` backend), whose time is linear in the path for any glob.
Python's `re` does not promise that (`**/a*a*a*b` backtracks polynomially on a long name), so
the backend is named here, never left to pathspec's choice, and a missing RE2 is an error.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pathspec import GitIgnoreSpec

BACKEND = "re2"


@lru_cache(maxsize=256)
def compile_globs(patterns: tuple[str, ...]) -> GitIgnoreSpec:
    """The patterns as one gitignore spec; ValueError for one git would not accept ("!")."""
    return GitIgnoreSpec.from_lines(patterns, backend=BACKEND)


def glob_problem(pattern: str) -> str | None:
    """Why `pattern` is not a usable glob, or None when it is."""
    if not pattern.strip():
        return "an empty glob matches nothing"
    try:
        compile_globs((pattern,))
    except ValueError as exc:
        return str(exc)
    except re.error as exc:  # pathspec's regex for a class such as "[z-a]"
        return exc.msg
    return None


def match_glob(path: str, pattern: str) -> bool:
    """Whether `pattern` alone matches the repository-relative `path`."""
    return compile_globs((pattern,)).match_file(path.lstrip("/"))


def last_match(path: str, patterns: tuple[str, ...]) -> tuple[bool, int] | None:
    """The deciding pattern for `path`, as gitignore decides: (matched and not negated, its
    index in `patterns`), or None when no pattern matches."""
    result = compile_globs(patterns).check_file(path.lstrip("/"))
    if result.include is None or result.index is None:
        return None
    return result.include, result.index
