"""The terminal report of `backend-review review`: one block per finding, then the verdict.

Wrapped to `width` columns when given (the CLI passes the terminal's width, and none when the
output is piped, so files and tests get the same lines every time). A wrapped line keeps its
indent and a block's continuation lines hang under its text, not at column 0.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from app.review.findings import Severity
from app.review.plan import ReviewPlan

# Files listed under "not reviewed" before the rest is counted (all of them with --verbose).
NOT_REVIEWED_SHOWN = 5
MIN_WIDTH = 40  # narrower than this, wrapping does more harm than good

_COLOURS = {
    Severity.CRITICAL: "\x1b[1;31m",
    Severity.MAJOR: "\x1b[31m",
    Severity.MINOR: "\x1b[33m",
    Severity.INFO: "\x1b[36m",
}
_RESET, _BOLD, _DIM, _GREEN, _RED = "\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[32m", "\x1b[1;31m"
_BODY = " " * 9  # under the title, past the severity column


def as_text(
    plan: ReviewPlan,
    *,
    mode: str,
    color: bool,
    header: str | None = None,
    width: int | None = None,
    verbose: bool = False,
    nothing: str | None = None,
) -> str:
    """The report. `header` says what was compared; `nothing` replaces the findings and the
    verdict when the diff was empty (it says between what)."""
    fit = _Wrapper(width)

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    out = [paint(_BOLD, line) for line in fit(f"backend-review ({mode})", "", "  ")]
    if header is not None:
        out += fit(header, "", "  ")
    out.append("")
    if nothing is not None:
        return "\n".join([*out, nothing]) + "\n"
    if plan.summary is not None:
        for line in plan.summary.summary.strip().splitlines():
            if line.strip():
                out += fit(line.strip(), "  ", "  ")
        if plan.summary.recommendation.strip():
            out += fit(f"Recommendation: {plan.summary.recommendation.strip()}", "  ", "    ")
        out.append("")
    where = _where_by_id(plan)
    live = [f for f in plan.findings if f.id not in set(plan.dismissed)]
    for f in live:
        label = f"{f.severity.value.upper():<8}"
        first = f"{label} {where.get(f.id, f.where.path)}  {f.title}  [{f.rule}]"
        lines = fit(first, "", _BODY)
        lines[0] = paint(_COLOURS[f.severity], label) + lines[0][len(label) :]
        tag = f"[{f.rule}]"
        if lines[-1].endswith(tag):
            lines[-1] = lines[-1][: -len(tag)] + paint(_DIM, tag)
        out += lines
        if f.id in plan.advisory:
            advisory = f"advisory, does not block: {plan.advisory[f.id]}"
            out += [paint(_DIM, line) for line in fit(advisory, _BODY, _BODY + "  ")]
        for line in f.evidence.strip().splitlines():
            if line.strip():
                out += fit(line.rstrip(), _BODY, _BODY)
        if f.failure_scenario and f.failure_scenario.strip():
            out += fit(f"how it fails: {' '.join(f.failure_scenario.split())}", _BODY, _BODY + "  ")
        if f.recommendation.strip():
            for i, line in enumerate(f.recommendation.strip().splitlines()):
                if line.strip():
                    text = f"→ {line.strip()}" if i == 0 else f"  {line.strip()}"
                    out += fit(text, _BODY, _BODY + "  ")
        out.append("")
    if not live:
        out += ["No findings.", ""]
    out += [paint(_DIM, line) for line in _not_reviewed(plan, fit, verbose=verbose)]
    verdict = {"failure": paint(_RED, "FAIL"), "success": paint(_GREEN, "PASS")}.get(
        plan.conclusion, "NEUTRAL"
    )
    out.append(f"{verdict}: {plan.check_title}")
    return "\n".join(out) + "\n"


def _not_reviewed(plan: ReviewPlan, fit: _Wrapper, *, verbose: bool) -> Iterator[str]:
    """A count and the first few files not reviewed (all of them when `verbose`)."""
    skipped = plan.not_reviewed
    if len(skipped) == 1:
        yield from fit(f"not reviewed: {skipped[0].path} ({skipped[0].reason})", "", "    ")
        yield ""
        return
    if not skipped:
        return
    cut = not verbose and len(skipped) > NOT_REVIEWED_SHOWN + 1  # never "... and 1 more"
    shown = skipped[:NOT_REVIEWED_SHOWN] if cut else skipped
    yield f"not reviewed: {len(skipped):,} files"
    for item in shown:
        yield from fit(f"{item.path} ({item.reason})", "  ", "      ")
    if len(shown) < len(skipped):
        yield f"  … and {len(skipped) - len(shown):,} more (--verbose lists them all)"
    yield ""


class _Wrapper:
    """`textwrap` with a hanging indent; no wrapping without a width. Paths and URLs are
    never split: a word longer than the line stays whole."""

    def __init__(self, width: int | None) -> None:
        self._width = max(width, MIN_WIDTH) if width is not None else None

    def __call__(self, text: str, first: str, rest: str) -> list[str]:
        if self._width is None:
            return [first + text]
        return textwrap.wrap(
            text,
            width=self._width,
            initial_indent=first,
            subsequent_indent=rest,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [first]


def _where_by_id(plan: ReviewPlan) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in plan.findings:
        loc = plan.locations.get(f.id)
        if loc is None:
            out[f.id] = f"{f.where.path}:{f.where.lines}" if f.where.lines else f.where.path
        elif loc.lines:
            out[f.id] = f"{loc.path}:{loc.lines}"
        else:
            out[f.id] = f"{loc.path} (file level: {loc.note})" if loc.note else loc.path
    return out
