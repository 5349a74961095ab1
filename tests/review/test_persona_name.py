"""A persona is named after the document's own identity, never a generic heading or a hash."""

from __future__ import annotations

import pytest

from app.review.persona import parse_persona


def name(text: str, source: str = "personas/test.md") -> str:
    return parse_persona(text, source=source).name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\nname: payments\ntitle: Payments reviewer\n---\n# Other\n", "payments"),
        ("---\ntitle: Payments reviewer\n---\n# Other\n", "Payments reviewer"),
        ("**ID:** p-1\n**Name:** payments-bot\n\n# Other\n\nReview.\n", "payments-bot"),
        ("**Persona**: Ledger Guardian\n\n# Role\n\nReview.\n", "Ledger Guardian"),
        ("**Persona:** Ledger Guardian\n**Title:** Ledgers\n\n# Role\n\nReview.\n", "Ledgers"),
        ("# Role\n\nReview.\n\n## Overview\n\n## Payments Reviewer\n", "Payments Reviewer"),
        ("## Instructions\n\nReview.\n\n## Task Management\n\n## Ledgers\n", "Ledgers"),
        ("# BACKEND ENGINEER\n\nReview.\n", "Backend Engineer"),
        ("# API\n\nReview.\n", "API"),
        ("# **Payments** reviewer\n\nReview.\n", "Payments reviewer"),
        (
            "Context\n\nLedger Reviewer\n\nLogo\n\nDescription\n\nReviews ledgers.\n",
            "Ledger Reviewer",
        ),
        ("Role\nQueue Reviewer\nReviews queues and consumers.\n", "Queue Reviewer"),
    ],
)
def test_the_name_comes_from_the_document(text: str, expected: str) -> None:
    assert name(text) == expected


def test_a_card_after_the_first_heading_does_not_name_the_persona() -> None:
    assert name("# Ledgers\n\n**Name:** not-this\n\nReview.\n") == "Ledgers"


def test_a_plain_name_colon_line_is_not_a_card() -> None:
    assert name("name: not a card\n\nJust text.\n", source="dir/team.md") == "team"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("dir/team.prompt.md", "team"),
        ("payments.agent.md", "payments"),
        ("notes.txt", "notes"),
        ("000_b1ace95ce082997e.txt", "persona"),
        ("seeds/3f9a2c71d0.md", "persona"),
        ("deadbeefcafe.md", "deadbeefcafe"),  # hex letters alone read as a word
    ],
)
def test_without_a_name_in_the_text_the_file_name_serves_unless_generated(
    source: str, expected: str
) -> None:
    assert name("You review scheduled jobs. Ask whether a job can run twice.\n", source) == expected
