"""Planning a review's model calls within its token budgets (pure).

A call has a budget for its whole prompt (`call_input_tokens`) and the review one for all its
calls (`review_tokens`, capped by what the installation has left today). The diff is split into
chunks that fit one call each; when all of them do not fit the review's budget, the most
important files are kept and the rest are listed as not reviewed. Running the calls is the
orchestration's (`app.jobs.model_calls`, `app.jobs.model_part`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.review.chunking import ChunkPart, ChunkPlan, estimate_tokens, plan_chunks, review_priority
from app.review.code_view import CodeView, code_views, views_without_outline
from app.review.diff import Diff
from app.review.files import classify, ignored_reason, is_code
from app.review.findings import Finding
from app.review.model_answer import TOOL_NAME
from app.review.prompt import render_part, system_blocks, user_message
from app.review.request import ReviewRequest

MIN_DIFF_TOKENS = 2_000  # a call with less room than this for the diff is not worth making
# The code around the hunks may at most double a review's tokens (input, and output allowed).
CONTEXT_COST_FACTOR = 2
# Per call: the rule findings given as facts, and the files listed when a PR is split. Both are
# bounded so that a PR of thousands of files does not spend each call's budget on lists.
MAX_FACTS = 50
MAX_LISTED_PATHS = 300


@dataclass(frozen=True, slots=True)
class ModelLimits:
    call_input_tokens: int
    review_tokens: int
    max_output_tokens: int
    concurrency: int
    deadline_seconds: float
    tokens_left_today: int | None = None  # None: no daily cap applies (the CLI)
    # The most the model can write in one answer (its max output): the ceiling of the one
    # larger retry of an answer cut off at `max_output_tokens`. None: unknown, twice that.
    output_ceiling: int | None = None
    # Output tokens each call may spend thinking beside its answer (the model's thinking budget,
    # as the call is sent): counted in every call's cost like the answer's allowance.
    thinking_tokens: int = 0

    @property
    def call_output_tokens(self) -> int:
        """What one call may write: its answer and its thinking."""
        return self.max_output_tokens + self.thinking_tokens


def by_severity(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: -f.severity.rank)


def facts_for(rules: Sequence[Finding], diff: Diff, shown: Sequence[str]) -> list[Finding]:
    """The rule findings one call is told about: on its files, or on no file of the diff."""
    here = set(shown)
    relevant = [f for f in rules if f.where.path in here or diff.file(f.where.path) is None]
    return by_severity(relevant)[:MAX_FACTS]


def listed_paths(chunks: ChunkPlan) -> list[str]:
    """The files the review sends to the model, most important first, at most MAX_LISTED_PATHS."""
    seen = dict.fromkeys(p for c in chunks.chunks for p in c.paths)
    return list(seen)[:MAX_LISTED_PATHS]


def review_budget(limits: ModelLimits) -> int:
    if limits.tokens_left_today is None:
        return limits.review_tokens
    return min(limits.review_tokens, limits.tokens_left_today)


def plan_calls(
    request: ReviewRequest, rules: Sequence[Finding], system: Sequence[str], limits: ModelLimits
) -> tuple[ChunkPlan, str | None, Mapping[str, CodeView]]:
    """Chunks that fit one call each and, together, the review's budget, and the head files
    the prompt shows the hunks in.

    The code around the hunks (`app.review.code_view`) is shown only while the budget allows
    it, and while the calls cost at most CONTEXT_COST_FACTOR times the hunks alone: the hunks
    with their enclosing functions and the files' outlines; else without the outlines; else the
    hunks alone, planned as before. The diff itself always comes first."""
    overhead = sum(estimate_tokens(block) for block in system)
    overhead += estimate_tokens(
        user_message(
            parts=(),
            pr=request.pr,
            tickets=request.tickets,
            # The most a call can carry: facts capped, the file list capped, the part note.
            rule_findings=by_severity(rules)[:MAX_FACTS],
            part=1,
            parts_total=2,
            all_paths=sorted(request.diff.paths, key=len, reverse=True)[:MAX_LISTED_PATHS],
            tool=TOOL_NAME,
        )
    )
    call_diff = limits.call_input_tokens - overhead
    review = review_budget(limits)
    skip = {
        f.path: reason
        for f in request.diff.files
        if (
            reason := request.not_reviewed.get(f.path)
            or ignored_reason(f.path, request.config.ignore)
        )
    }
    if request.model_scope is not None:
        # Unchanged since the last review: its findings are carried, not asked for again.
        unchanged = "unchanged since the last review"
        skip |= {f.path: unchanged for f in request.diff.files if f.path not in request.model_scope}
    if call_diff < MIN_DIFF_TOKENS:
        empty = ChunkPlan(chunks=(), not_reviewed={}, tokens=0)
        reason = "the persona and the pull request text leave no room for the diff in one call"
        return empty, reason, {}
    per_call = overhead + limits.call_output_tokens
    planner = _Planner(request.diff, skip, call_diff, {})
    first = planner.plan(10**12)
    fits = review - len(first.chunks) * per_call >= first.tokens
    rich = code_views(request.diff, request.files, with_outline=True) if request.files else {}
    plain_cost = first.tokens + len(first.chunks) * per_call
    for views in (rich, views_without_outline(rich)) if rich and fits else ():
        richer = _Planner(request.diff, skip, call_diff, views).plan(10**12)
        cost = richer.tokens + len(richer.chunks) * per_call
        if (
            cost <= review
            and cost <= CONTEXT_COST_FACTOR * plain_cost
            and richer.not_reviewed.keys() <= first.not_reviewed.keys()
        ):
            return richer, None, views
    if fits:
        return first, None, {}
    plan = _fitreview_budget(planner, review, per_call, len(first.chunks))
    if plan is None:
        empty = ChunkPlan(chunks=(), not_reviewed={}, tokens=0)
        return empty, "the review's token budget is too small for one model call", {}
    dropped = len(plan.not_reviewed) - len(first.not_reviewed)
    return plan, f"over the review's token budget: {dropped} file(s) not given to the model", {}


def unseen_code(request: ReviewRequest, chunks: ChunkPlan) -> str | None:
    """Why the model did not see some added code, or None: a code file (not a test) with a
    hunk that adds lines and is larger than one model call. Data, docs, tests, files the
    configuration ignores and removed lines are not counted: a 2,000-line JSON fixture is no
    reason to hold a review."""
    shown = [
        path
        for path in chunks.too_big
        if is_code(path)
        and classify(path).kind not in ("test", "docs")
        and ignored_reason(path, request.config.ignore) is None
    ]
    if not shown:
        return None
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    return (
        f"the model could not see {len(shown)} changed code file(s), each with a hunk larger "
        f"than one model call: {', '.join(shown[:3])}{more} (split the change, or add the "
        "path to `ignore:` if it is generated)"
    )


class _Planner:
    """`plan_chunks` for one diff under several review budgets, rendering and ranking once."""

    def __init__(
        self,
        diff: Diff,
        skip: Mapping[str, str],
        call_tokens: int,
        views: Mapping[str, CodeView],
    ) -> None:
        self._diff = diff
        self._views = views
        self._skip = skip
        self._call_tokens = call_tokens
        self._rendered: dict[tuple[int, int, int, int], str] = {}
        self._priority = {f.path: review_priority(f) for f in diff.files}

    def _render(self, part: ChunkPart) -> str:
        # Identity of the part's objects, not equality: hashing a FileDiff walks every line.
        first = id(part.hunks[0]) if part.hunks else 0
        key = (id(part.file), first, len(part.hunks), part.parts)
        text = self._rendered.get(key)
        if text is None:
            # With the newline that joins it to the next part in the DIFF block.
            view = self._views.get(part.file.path)
            text = self._rendered[key] = render_part(part, view) + "\n"
        return text

    def plan(self, review_tokens: int) -> ChunkPlan:
        return plan_chunks(
            self._diff,
            render=self._render,
            call_tokens=self._call_tokens,
            review_tokens=review_tokens,
            skip=self._skip,
            priority=lambda f: self._priority[f.path],
        )


def _fitreview_budget(
    planner: _Planner, review: int, per_call: int, most_calls: int
) -> ChunkPlan | None:
    """The largest plan whose calls, each with its fixed cost, fit the review's budget.

    Assuming k calls leaves `review - k * per_call` tokens for the diff; a plan within that
    budget is usable when it needs at most k calls. Fewer diff tokens never need more calls,
    so the smallest usable k (the most diff) is found by bisection.
    """

    def attempt(calls: int) -> ChunkPlan | None:
        budget = review - calls * per_call
        if budget <= 0:
            return None
        plan = planner.plan(budget)
        return plan if len(plan.chunks) <= calls else None

    lo, hi = 1, max(1, min(most_calls, (review - 1) // per_call))
    best = attempt(hi)
    if best is None:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        plan = attempt(mid)
        if plan is None:
            lo = mid + 1
        else:
            best, hi = plan, mid
    return best if best.chunks else None


@dataclass(frozen=True, slots=True)
class PreparedCalls:
    """The model calls of a review, ready to send: the chunks they cover and their prompts."""

    chunks: ChunkPlan
    over_budget: str | None  # why files were left out to fit the review's token budget
    system: tuple[str, ...]
    users: tuple[str, ...]  # one user message per chunk
    rule_ids: tuple[str, ...]  # the checklist items an answer may cite


def prepare_calls(
    request: ReviewRequest, rules: Sequence[Finding], limits: ModelLimits
) -> PreparedCalls:
    """Plan the calls within the budgets and build every prompt (pure; the review job runs it
    in a worker process, it is the CPU part of asking the model)."""
    system = system_blocks(request.persona, request.checklists, request.config, tool=TOOL_NAME)
    rule_ids = tuple(item.id for c in request.checklists for item in c.items)
    chunks, over_budget, views = plan_calls(request, rules, system, limits)
    unseen = unseen_code(request, chunks)
    if unseen:
        # Code the model was meant to see and could not: the review is not complete, or an
        # author could hide a change in one huge hunk or a file that looks binary.
        over_budget = "; ".join(filter(None, (over_budget, unseen)))
    listed = listed_paths(chunks) if len(chunks.chunks) > 1 else ()
    users = tuple(
        user_message(
            parts=chunk.parts,
            pr=request.pr,
            tickets=request.tickets,
            rule_findings=facts_for(rules, request.diff, chunk.paths),
            part=i,
            parts_total=len(chunks.chunks),
            all_paths=listed,
            views=views,
            tool=TOOL_NAME,
        )
        for i, chunk in enumerate(chunks.chunks, 1)
    )
    return PreparedCalls(chunks, over_budget, system, users, rule_ids)
