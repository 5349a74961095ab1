"""Path globs with git's own semantics (those of `.gitignore`), matched by `pathspec`.

A pattern without a "/" (other than a trailing one) matches a name at any depth; one with a "/"
is anchored at the repository root; "**" spans directories; "[xy]" and "[!x]" are character
classes; a trailing "/" matches a directory only (so everything below it, never a file of that
name); a leading "!" brings back what an earlier pattern matched; a later pattern wins.

Matching runs on RE2 (pathspec's `re2` backend), whose time is linear in the path for any glob.
Python's `re` does not promise that (`**/a*a*a*b` backtracks polynomially on a long name), so
the backend is named here, never left to pathspec's choice, and a missing RE2 is an error.

RE2 bounds the memory of what it compiles (8 MB by default, which pathspec keeps), so a glob, or
a gitignore list compiled together as one set, can be too large to compile: `GlobError`, which
the config reports as a problem of its key (`set_problem`) rather than letting it reach a review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import re2
from pathspec import GitIgnoreSpec

BACKEND = "re2"
TOO_LARGE = "too large for the glob matcher to compile (RE2's memory limit)"


class GlobError(ValueError):
    """Globs RE2 cannot compile within its memory limit."""


@lru_cache(maxsize=256)
def compile_globs(patterns: tuple[str, ...]) -> GitIgnoreSpec:
    """The patterns as one gitignore spec; ValueError for one git would not accept ("!"),
    GlobError for globs too large to compile."""
    try:
        return GitIgnoreSpec.from_lines(patterns, backend=BACKEND)
    except re2.error:
        # re2's error subclasses neither ValueError nor re.error, and says only "failed to
        # compile Set": named here, so no caller has to know the backend's exception.
        raise GlobError(TOO_LARGE) from None


def gitignore_lines(patterns: Iterable[str]) -> tuple[str, ...]:
    """The patterns as matched: stripped, the empty ones left out (validation compiles exactly
    the tuple a review will, so a list that compiled once compiles again)."""
    return tuple(line for line in (p.strip() for p in patterns) if line)


def glob_problem(pattern: str) -> str | None:
    """Why `pattern` is not a usable glob, or None when it is."""
    if not pattern.strip():
        return "an empty glob matches nothing"
    try:
        compile_globs((pattern,))
    except ValueError as exc:  # GlobError too
        return str(exc)
    except re.error as exc:  # pathspec's regex for a class such as "[z-a]"
        return exc.msg
    return None


def set_problem(patterns: Iterable[str]) -> str | None:
    """Why `patterns`, each usable alone, cannot be matched together as one gitignore list, or
    None when they can."""
    lines = gitignore_lines(patterns)
    try:
        compile_globs(lines)
    except ValueError as exc:
        return f"these {len(lines)} globs together are {exc}; use fewer or simpler globs"
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
