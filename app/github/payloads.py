"""Request bodies for what we post, shaped and clipped to GitHub's limits. Pure functions.

Limits (GitHub REST docs): a check run's `output.summary` and `output.text` hold at most 65,535
characters; one create or update carries at most 50 annotations (more are appended by further
updates); an annotation's `title` holds 255 characters and its `message` 64 KB. githubkit checks
the same limits before sending and would refuse the whole call, so we clip first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.github.types import CheckAction, Conclusion
from app.review.plan import Annotation, InlineComment

OUTPUT_TEXT_LIMIT = 65_535
ANNOTATIONS_PER_REQUEST = 50
ANNOTATION_TITLE_LIMIT = 255
ANNOTATION_MESSAGE_LIMIT = 65_535
REACTIONS = frozenset({"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"})

_CLIPPED = "\n\n… (truncated: GitHub's limit)"


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, saying so when it was cut."""
    if len(text) <= limit:
        return text
    if limit <= len(_CLIPPED):
        return text[:limit]
    return text[: limit - len(_CLIPPED)] + _CLIPPED


def annotation(a: Annotation) -> dict[str, Any]:
    return {
        "path": a.path,
        "start_line": a.start_line,
        "end_line": a.end_line,
        "annotation_level": a.annotation_level,
        "title": clip(a.title, ANNOTATION_TITLE_LIMIT),
        "message": clip(a.message, ANNOTATION_MESSAGE_LIMIT),
    }


def check_output(
    title: str,
    summary: str,
    text: str | None = None,
    annotations: Sequence[Annotation] = (),
) -> dict[str, Any]:
    output: dict[str, Any] = {"title": title, "summary": clip(summary, OUTPUT_TEXT_LIMIT)}
    if text is not None:
        output["text"] = clip(text, OUTPUT_TEXT_LIMIT)
    if annotations:
        output["annotations"] = [annotation(a) for a in annotations]
    return output


def check_run_updates(
    *,
    conclusion: Conclusion,
    title: str,
    summary: str,
    text: str | None,
    annotations: Sequence[Annotation],
    actions: Sequence[CheckAction] = (),
) -> list[dict[str, Any]]:
    """The PATCH bodies that complete a check run with all its annotations, in order.

    The first completes the run with the first 50 annotations (and its `actions`, the buttons);
    each further one appends the next 50. Every body repeats title, summary and text, which
    GitHub requires with each `output`.
    """
    batches = [
        annotations[i : i + ANNOTATIONS_PER_REQUEST]
        for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
    ] or [()]
    bodies: list[dict[str, Any]] = [
        {
            "status": "completed",
            "conclusion": conclusion,
            "output": check_output(title, summary, text, batches[0]),
        }
    ]
    if actions:
        bodies[0]["actions"] = [
            {"label": a.label, "description": a.description, "identifier": a.identifier}
            for a in actions
        ]
    bodies += [{"output": check_output(title, summary, text, batch)} for batch in batches[1:]]
    return bodies


def review_comment(c: InlineComment) -> dict[str, Any]:
    """One inline comment of a review: `line`/`side`, and `start_*` only for a range."""
    body: dict[str, Any] = {"path": c.path, "body": c.body, "line": c.line, "side": c.side}
    if c.start_line is not None and c.start_line != c.line:
        body["start_line"] = c.start_line
        body["start_side"] = c.start_side or c.side
    return body
