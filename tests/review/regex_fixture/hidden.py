"""A way of reaching `re` the audit cannot follow, which it must report."""

from __future__ import annotations

from re import escape

ESCAPED = escape("x")
