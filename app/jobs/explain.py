"""`/backend-review explain` in a finding's thread: what the review recorded about the finding,
and, when a model is configured and today's budget allows, one short model call on the finding
and its diff hunk. Its tokens count against the installation's daily cap like a review's.

Without a model, or over the cap, or when the model does not answer, the reply says what we
know and why the model's part is missing: `explain` never fails for want of a model.
"""

from __future__ import annotations

import logging
import time

from app.github.types import Comment
from app.jobs.context import JobContext
from app.jobs.llm_config import model_limits
from app.jobs.payloads import CommandJob
from app.jobs.usage import record_usage, tokens_left_today
from app.llm import LLMError, ModelRequest
from app.review.commands import explain_text
from app.review.explain import (
    EXPLAIN_OUTPUT_TOKENS,
    EXPLAIN_SCHEMA,
    EXPLAIN_SYSTEM,
    EXPLAIN_TOOL,
    MAX_REASONING_CHARS,
    KnownFinding,
    explain_prompt,
    known_finding,
)
from app.store.usage import UsageRecord

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 3  # a cautious estimate of the prompt's tokens, for the budget check


async def explanation(ctx: JobContext, request: CommandJob, finding_id: str, root: Comment) -> str:
    """The reply to `explain` on `finding_id`, whose thread starts at our comment `root`."""
    stored = await ctx.store.last_review(request.repository_id, request.number)
    model_finding = next(
        (f for f in (stored.model_findings if stored else ()) if f.id == finding_id), None
    )
    known = known_finding(
        finding_id, stored=model_finding, comment_body=root.body, path=root.path or ""
    )
    reasoning, no_model = await _reasoning(ctx, request, known, root.diff_hunk)
    return explain_text(
        finding_id,
        title=known.title,
        evidence=known.evidence,
        recommendation=known.recommendation,
        reasoning=reasoning,
        no_model=no_model,
    )


async def _reasoning(
    ctx: JobContext, request: CommandJob, known: KnownFinding, hunk: str
) -> tuple[str | None, str | None]:
    """(the model's explanation, None) or (None, why there is none)."""
    settings = ctx.settings
    prompt = explain_prompt(known, hunk)
    # The answer's allowance and the thinking budget it is sent with: what the call may write.
    thinking = model_limits(settings, None, None).thinking_tokens
    written = EXPLAIN_OUTPUT_TOKENS + thinking
    needed = (len(EXPLAIN_SYSTEM) + len(prompt)) // CHARS_PER_TOKEN + written
    left = await tokens_left_today(
        ctx.store, request.installation_id, daily_cap=settings.llm_daily_tokens, now=ctx.now()
    )
    if left < needed:
        return None, "today's model budget for this installation is spent"
    model = ctx.models(None)
    if model is None:
        return None, settings.llm_missing() or "no model is configured"
    call = ModelRequest(
        system=(EXPLAIN_SYSTEM,),
        user=prompt,
        tool_name=EXPLAIN_TOOL,
        tool_description="Explain the finding to the pull request's author.",
        input_schema=EXPLAIN_SCHEMA,
        max_output_tokens=EXPLAIN_OUTPUT_TOKENS,
    )
    try:
        reply = await model.review(call, deadline=time.monotonic() + settings.llm_deadline_seconds)
    except LLMError as exc:
        log.warning("explain %s: the model did not answer: %s", known.finding_id, exc)
        ctx.metrics.count_llm_call("unavailable")
        return None, "the model did not answer"
    finally:
        await model.aclose()
    await record_usage(
        ctx.store,
        ctx.metrics,
        UsageRecord(
            installation_id=request.installation_id,
            repository=request.repository,
            number=request.number,
            head_sha=None,
            job_id=None,
            model=reply.model,
            calls=1,
            input_tokens=reply.usage.input_tokens,
            output_tokens=reply.usage.output_tokens,
            cache_read_tokens=reply.usage.cache_read_tokens,
            cache_write_tokens=reply.usage.cache_write_tokens,
            outcome="explain",
            at=ctx.now(),
        ),
        prices=settings.llm_price_per_mtok,
    )
    text = (reply.tool_input or {}).get("reasoning")
    if not isinstance(text, str) or not text.strip():
        ctx.metrics.count_llm_call("unusable")
        return None, "the model gave no explanation"
    ctx.metrics.count_llm_call("ok")
    return text.strip()[:MAX_REASONING_CHARS], None
