"""Patterns the audit must find: a constant, one inside a tuple, one in a call."""

from __future__ import annotations

import re
from dataclasses import dataclass

HELD = re.compile("held")


@dataclass(frozen=True)
class Box:
    regex: re.Pattern[str]


BOXES = (Box(re.compile("in-a-tuple")),)


def called(text: str) -> bool:
    return re.search("called", text) is not None


def lookup(word: str, text: str) -> bool:
    return re.search(word, text) is not None  # built at run time: the audit must say so
