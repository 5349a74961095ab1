"""The model's part of `backend-review review`: which model, progress on stderr, tokens used.

Kept apart from `app.cli.review` (arguments, inputs, outputs) because it is the only part that
loads the Anthropic SDK (through `app.llm`), which takes over a second to import: it is imported
when a review runs, not when the `backend-review` parser is built for every command.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from contextlib import AsyncExitStack

from app.errors import ConfigError
from app.jobs.llm_config import llm_config, model_limits, model_refusal
from app.jobs.model_calls import run_review
from app.jobs.model_result import ReviewResult
from app.llm import (
    LLMError,
    LLMRejected,
    ModelReply,
    ModelRequest,
    ReviewModel,
    model_of_one_run,
)
from app.logs import Redactor
from app.review.budget import ModelLimits
from app.review.request import ReviewRequest
from app.settings import Settings


async def run_local_review(
    request: ReviewRequest, settings: Settings, rules_only: str | None
) -> tuple[ReviewResult, str]:
    """The review and the text report's mode line ("rules only...", "rules + <model>...")."""
    # No daily cap on a developer's own key.
    limits = model_limits(settings, request.persona.model, tokens_left_today=None)
    if rules_only is None:
        rules_only = settings.llm_missing()
    refused = model_refusal(settings, request.persona.model) if rules_only is None else None
    if refused is not None:
        # The model was meant to review and cannot: the review is incomplete, not rules-only.
        result = await run_review(request, None, limits, model_unavailable=refused)
        return result, f"rules only: {refused}"
    if rules_only is None:
        async with AsyncExitStack() as stack:
            try:
                # Our own HTTP client, so it is closed when the review ends.
                run = model_of_one_run(llm_config(settings), persona_model=request.persona.model)
                model = await stack.enter_async_context(run)
            except ConfigError as exc:
                # A provider's missing extra: the rules still run, but a model was configured
                # and did not review, so the review is incomplete, never a plain pass.
                why = str(exc)
                result = await run_review(request, None, limits, model_unavailable=why)
                return result, f"rules only: {why}"
            else:
                say = _Stderr(settings.secret_values())
                return await _review_with_model(request, model, limits, say)
    result = await run_review(request, None, limits, rules_only_reason=rules_only)
    return result, "rules only" if rules_only == "--no-llm" else f"rules only: {rules_only}"


async def _review_with_model(
    request: ReviewRequest, model: ReviewModel, limits: ModelLimits, say: _Stderr
) -> tuple[ReviewResult, str]:
    watched = _Watched(model)
    for persona_note in request.persona.notes:
        say(f"persona {request.persona.source}: {persona_note}")
    say(f"model: reviewing {len(request.diff.files)} file(s) with {model.model}")
    ticker = asyncio.create_task(_heartbeat(say, model.model))
    handler = _LogToStderr(say)
    logging.getLogger("app").addHandler(handler)  # the adapter's retry warnings are progress too
    try:
        result = await run_review(request, watched, limits, progress=say)
    finally:
        logging.getLogger("app").removeHandler(handler)
        ticker.cancel()
    answered = result.model is not None and result.outcome in ("complete", "partial", "over-budget")
    note = _model_note(result, watched.failure)
    if note is not None:
        say(f"model: {note}" + ("" if answered else "; the rules' findings are shown"))
    u = result.usage
    say(
        f"tokens: {result.calls} call(s), input {u.input_tokens}, output {u.output_tokens}, "
        f"cache read {u.cache_read_tokens}, cache write {u.cache_write_tokens}, "
        f"model {result.model or model.model}"
    )
    mode = f"rules + {result.model}" if answered else "rules only"
    return result, f"{mode}: {note}" if note else mode


def _model_note(result: ReviewResult, failure: str | None) -> str | None:
    """What the model did not do, in a few words; None when it reviewed everything."""
    if result.outcome == "complete":
        return None
    if result.outcome == "unavailable":
        return failure or "the model did not answer before the review's deadline"
    if result.outcome == "unusable":
        return "the model's answer was unusable, also after a repair turn"
    if result.outcome == "partial":
        why = failure or "unusable answers"
        return f"some parts were not reviewed by the model ({why}); see 'not reviewed'"
    if result.outcome == "over-budget" and result.model is not None:
        return "over the review's token budget: some files were not given to the model"
    if result.outcome == "over-budget":
        return "the review's token budget is too small for one model call"
    return "no file of the diff could be given to the model"


class _Watched:
    """The review model, remembering the first reason a call failed, for the notice."""

    def __init__(self, model: ReviewModel) -> None:
        self.model = model.model
        self.failure: str | None = None
        self._model = model

    async def review(
        self,
        request: ModelRequest,
        *,
        deadline: float | None = None,
        started: asyncio.Event | None = None,
    ) -> ModelReply:
        try:
            return await self._model.review(request, deadline=deadline, started=started)
        except LLMError as exc:
            if self.failure is None:
                refused = isinstance(exc, LLMRejected)
                what = (
                    "the model API refused the request" if refused else "the model was unavailable"
                )
                self.failure = f"{what}: {exc.reason}"
            raise


class _Stderr:
    """One `backend-review: ...` line on stderr per call, secrets removed."""

    def __init__(self, secrets: list[str]) -> None:
        self._redactor = Redactor(secrets)

    def __call__(self, text: str) -> None:
        sys.stderr.write(f"backend-review: {self._redactor.redact(_one_line(text))}\n")
        sys.stderr.flush()


class _LogToStderr(logging.Handler):
    def __init__(self, say: _Stderr) -> None:
        super().__init__(logging.WARNING)
        self._say = say

    def emit(self, record: logging.LogRecord) -> None:
        self._say(record.getMessage())


HEARTBEAT_SECONDS = 20.0


async def _heartbeat(say: _Stderr, model: str) -> None:
    """A line now and then while a long call runs, so a quiet terminal is not taken for a hang."""
    started = time.monotonic()
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        say(f"model: still waiting for {model} ({time.monotonic() - started:.0f}s)")


def _one_line(message: str) -> str:
    return " ".join(message.split())
