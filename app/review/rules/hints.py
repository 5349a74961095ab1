"""Cheap tests that let a rule skip text its regexes cannot match.

A rule on a large diff should not run a dozen regexes on every line. Instead it asks first
whether the text (a whole file's added lines, then one line) contains something every match
must contain: a literal such as "AKIA" or "@", searched by C-level string search. Only text
that passes meets the real regexes, so a hint that every match implies changes no result.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache


def hinted(
    text: str,
    words: Sequence[str] = (),
    pattern: re.Pattern[str] | None = None,
    folded: Sequence[str] = (),
) -> bool:
    """Whether `text` may hold a match: it contains one of `words`, `pattern` matches, or (case
    folded) one of `folded` (lower-case ASCII words) occurs.

    A prefilter: callers pick hints that every match of their real regexes contains, so a
    False here means no line of `text` can match. `folded` stands for a regex with re.I;
    `str.lower` is only used on ASCII text, where it folds exactly as re.I does (elsewhere
    re.I also equates e.g. U+017F, the long s, with "s"), and other text falls back to that regex.
    """
    if any(w in text for w in words) or (pattern is not None and pattern.search(text)):
        return True
    if not folded:
        return False
    if text.isascii():
        low = text.lower()
        return any(w in low for w in folded)
    return _folded_regex(tuple(folded)).search(text) is not None


@lru_cache(maxsize=64)
def _folded_regex(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(w) for w in words), re.I)
