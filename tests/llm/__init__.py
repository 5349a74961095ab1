"""Tests of the LLM adapter, all through `tests.fakes.anthropic_api.FakeAnthropic`.

Shared helpers live here: a timeline whose `sleep` records waits and moves its clock instead of
sleeping, a sample request, and a model wired to a fake.
"""

from __future__ import annotations

from typing import Any

from app.llm import AnthropicModel, ModelRequest
from tests.fakes.anthropic_api import FakeAnthropic

MODEL = "claude-sonnet-4-6"  # "claude-sonnet-4-5" makes SDK 2.10 warn that it is deprecated
SCHEMA: dict[str, Any] = {
    "title": "Review",
    "type": "object",
    "properties": {
        "summary": {"type": "string", "description": "One paragraph."},
        "findings": {
            "type": "array",
            "items": {"$ref": "#/$defs/Finding"},
        },
    },
    "required": ["summary", "findings"],
    "$defs": {
        "Finding": {
            "type": "object",
            "properties": {
                "title": {"type": "string", "maxLength": 120},
                "severity": {"enum": ["critical", "major", "minor", "info"]},
                "where": {
                    "type": "object",
                    "properties": {"path": {"type": "string"}, "lines": {"type": "string"}},
                    "required": ["path"],
                },
            },
            "required": ["title", "severity", "where"],
        }
    },
}
ANSWER: dict[str, Any] = {
    "summary": "Adds a refunds endpoint without an authorization check.",
    "findings": [
        {
            "title": "POST /refunds has no permission check",
            "severity": "critical",
            "where": {"path": "app/refunds.py", "lines": "12-30"},
        }
    ],
}


def review_request(**changes: Any) -> ModelRequest:
    values: dict[str, Any] = {
        "system": ("You are a senior backend engineer.", "Checklists: authZ, migrations."),
        "user": "Review this diff:\n+def refund(): ...",
        "tool_name": "submit_review",
        "tool_description": "Submit the review.",
        "input_schema": SCHEMA,
    }
    return ModelRequest(**{**values, **changes})


class Timeline:
    """A monotonic clock and a sleep that only moves it, recording each wait."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def make_model(fake: FakeAnthropic, timeline: Timeline, **options: Any) -> AnthropicModel:
    api_key = options.pop("api_key", None)
    values: dict[str, Any] = {
        "model": MODEL,
        "max_output_tokens": 4096,
        "timeout_seconds": 60.0,
        "max_attempts": 3,
        "secrets": (fake.api_key,),
        "sleep": timeline.sleep,
        "clock": timeline.clock,
    }
    return AnthropicModel(fake.client(api_key=api_key), **{**values, **options})
