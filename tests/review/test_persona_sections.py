"""Parts written for coding agents are left out of the prompt, each recorded with why."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.review.persona import Persona, PersonaError, parse_persona
from app.review.persona_sections import TOP, remove_agent_parts, section_headings
from bench import persona_parse

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "personas"
KEPT = "## Security\n\n- Check access at the boundary.\n"


def parse(text: str) -> Persona:
    return parse_persona(text, source="personas/test.md")


def dropped(persona: Persona) -> list[tuple[str, str, str]]:
    return [(part.heading, part.rule, part.excerpt) for part in persona.left_out]


# --- whole sections, by heading -------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "rule"),
    [
        ("Task Management", "task-management"),
        ("Todo list", "task-management"),
        ("Tools", "tools"),
        ("Available tools", "tools"),
        ("Quick Lookup Capabilities", "tools"),
        ("Output Format", "output-format"),
        ("Response format", "output-format"),
        ("Deliverables", "output-format"),
        ("Escalation Protocol", "escalation"),
        ("When to call other agents", "escalation"),
        ("Hand-offs", "escalation"),
        ("Required Inputs (Before Coding)", "ask-user"),
        ("Interaction Protocol", "ask-user"),
        ("Handling Incomplete Inputs", "ask-user"),
        ("Implementation Workflow", "workflow"),
        ("3. Development process", "workflow"),
        ("Tags", "metadata"),
        ("When to use", "metadata"),
    ],
)
def test_a_section_for_coding_agents_goes_by_its_heading(heading: str, rule: str) -> None:
    text = f"# Payments reviewer\n\n{KEPT}\n## {heading}\n\nSome text for the agent.\n"

    persona = parse(text)

    assert dropped(persona) == [(heading, rule, "")]
    assert "Some text for the agent." not in persona.instructions
    assert persona.instructions == f"# Payments reviewer\n\n{KEPT}".strip()
    assert persona.left_out[0].reason


@pytest.mark.parametrize(
    "heading",
    [
        "Security",
        "Output encoding",  # a security topic, not an output format
        "Knowledge & Tooling",
        "Constraints",
        "Inputs validation",
        "Workflow engines",
        "API Development",
    ],
)
def test_review_headings_stay(heading: str) -> None:
    text = f"# R\n\n## {heading}\n\nEscape what you render.\n"
    persona = parse(text)

    assert persona.left_out == ()
    assert persona.instructions == text.strip()


def test_a_dropped_section_takes_its_sub_sections_and_stops_at_its_level() -> None:
    text = (
        "# R\n\n## Agent interaction protocols\n\nIntro.\n\n### Librarian\n\n- Ask it.\n\n"
        "#### Format\n\nText.\n\n## Security\n\nKept.\n"
    )

    persona = parse(text)

    assert dropped(persona) == [("Agent interaction protocols", "escalation", "")]
    assert persona.instructions == "# R\n\n## Security\n\nKept."


def test_the_document_title_holding_every_section_is_never_dropped() -> None:
    text = "# Development process reviewer\n\n## Tools\n\n- bash\n\n## Data\n\nKept.\n"
    persona = parse(text)

    assert dropped(persona) == [("Tools", "tools", "")]
    assert persona.instructions == "# Development process reviewer\n\n## Data\n\nKept."
    assert persona.name == "Development process reviewer"


def test_a_parameters_section_goes_only_when_it_holds_template_parameters() -> None:
    template = parse("## Role\n\nReview.\n\n## Parameters\n[VERBOSITY]: terse | verbose\n")
    review = parse("## Role\n\nReview.\n\n## Parameters\n\nBind SQL parameters.\n")

    assert dropped(template) == [("Parameters", "metadata", "")]
    assert review.left_out == ()


def test_headings_inside_code_blocks_are_not_sections() -> None:
    text = "# R\n\n```markdown\n## Tools\n- bash\n```\n\nKept.\n"
    persona = parse(text)

    assert persona.left_out == ()
    assert "## Tools" in persona.instructions


# --- items and sentences, by their words ----------------------------------------------------


def test_a_list_item_goes_with_the_items_nested_under_it() -> None:
    text = (
        "## Practices\n\n"
        "- **Errors**: one error shape.\n"
        "- **Tasks**: update `.claude/tasks/be.md` when:\n"
        "  - starting a task\n"
        "  - finishing one\n"
        "- **Security**: validate input.\n"
    )

    persona = parse(text)

    assert dropped(persona) == [
        ("Practices", "task-management", "**Tasks**: update `.claude/tasks/be.md` when:")
    ]
    assert persona.instructions == (
        "## Practices\n\n- **Errors**: one error shape.\n- **Security**: validate input."
    )


@pytest.mark.parametrize(
    ("sentence", "rule"),
    [
        ("If inputs are missing, ask questions and pause until resolved.", "ask-user"),
        ("Ask the user which database is used.", "ask-user"),
        ("Begin with a concise checklist of what you will do.", "output-format"),
        ("Respond in this JSON format.", "output-format"),
        ("Use the TodoWrite tool to track progress.", "task-management"),
        ("Read CLAUDE.md first.", "workflow"),
        ("Escalate to the architect when stuck.", "escalation"),
        ("Before any significant tool call, state the purpose.", "tools"),
    ],
)
def test_a_sentence_goes_alone_and_the_paragraph_stays(sentence: str, rule: str) -> None:
    text = f"## Role\n\nYou review backend changes. {sentence} Check every query.\n"

    persona = parse(text)

    assert dropped(persona) == [("Role", rule, sentence)]
    assert persona.instructions == "## Role\n\nYou review backend changes. Check every query."


def test_a_section_left_with_only_its_heading_goes_with_the_reason_of_its_text() -> None:
    text = (
        "## Authority\n\nWhen in doubt, stop and raise the issue with the lead.\n\n"
        "## Data\n\nKept.\n"
    )

    persona = parse(text)

    assert dropped(persona) == [("Authority", "escalation", "")]
    assert persona.instructions == "## Data\n\nKept."


def test_code_blocks_keep_their_words() -> None:
    text = "## Examples\n\n```\nask the user\n```\n"
    assert parse(text).left_out == ()


def test_a_metadata_card_before_the_first_heading_goes_with_its_rules() -> None:
    text = (
        "Intro line.\n\n---\n**ID:** x\n**Version:** 1\n**Pipeline Stage:** 4\n\n---\n"
        "## Role\n\nReview.\n"
    )

    persona = parse(text)

    assert dropped(persona) == [(TOP, "metadata", "**ID:** x")]
    assert persona.instructions == "Intro line.\n\n## Role\n\nReview."


def test_two_card_lines_are_not_a_card() -> None:
    text = "**Priorities**: safety first\n**Bias**: simple\n\n## Role\n\nReview.\n"
    assert parse(text).left_out == ()


# --- documents without Markdown headings ------------------------------------------------------


PLAIN = """\
Queue reviewer
Purpose
Reviews consumers of the order queue.
Tools
- grep, bash
Working Approach
-
Understand first
- Read the handler.
Rules
- Every consumer is idempotent.
"""


def test_plain_text_headings_are_guessed_from_short_lines_that_introduce_text() -> None:
    lines = PLAIN.splitlines()
    found = [text for _, _, text in section_headings(lines)]

    # "Queue reviewer" introduces another short line, and "Understand first" follows a bare `-`.
    assert found == ["Purpose", "Tools", "Working Approach", "Rules"]


def test_plain_text_sections_are_dropped_like_markdown_ones() -> None:
    persona = parse(PLAIN)

    assert [(h, r) for h, r, _ in dropped(persona)] == [
        ("Tools", "tools"),
        ("Working Approach", "workflow"),
    ]
    assert persona.instructions == (
        "Queue reviewer\nPurpose\nReviews consumers of the order queue.\n"
        "Rules\n- Every consumer is idempotent."
    )


def test_a_short_line_naming_an_agent_section_is_a_heading_even_before_another() -> None:
    lines = [
        "Intro text that is long enough.",
        "",
        "Response style",
        "",
        "Plain",
        "",
        "Connections",
    ]
    kept, left = remove_agent_parts([*lines, "", "github"])

    # "Plain" introduces no text (another short line follows): it stays in "Response style".
    assert [part.heading for part in left] == ["Response style", "Connections"]
    assert kept == ["Intro text that is long enough.", ""]


# --- our own personas lose nothing ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [REPO / "personas" / "backend-engineer.md", *sorted(FIXTURES.iterdir())],
    ids=lambda p: p.name,
)
def test_our_personas_and_fixtures_lose_nothing(path: Path) -> None:
    persona = parse_persona(path.read_text(encoding="utf-8"), source=path.name)
    assert persona.left_out == ()


def test_a_persona_that_is_all_agent_text_is_empty() -> None:
    with pytest.raises(PersonaError) as info:
        parse("## Tools\n\n- bash\n\n## Task list\n\n- [ ] one\n")
    message = str(info.value)
    assert message.startswith("personas/test.md: the persona is empty")
    assert "once the parts written for coding agents are left out" in message


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(persona_parse.SHAPES))
def test_parsing_work_grows_linearly_with_the_document(shape: str) -> None:
    """CPU time at 8k and 64k characters of each hostile shape: ~8x when linear, ~64x when
    quadratic (as the section, heading and item walks were before). A ratio of two measurements,
    no time limit; a bad ratio is measured again before it fails."""
    ratios = []
    for _ in range(3):
        *_, ratio = persona_parse.ratio(persona_parse.SHAPES[shape])
        ratios.append(ratio)
        if ratio <= persona_parse.LINEAR_RATIO:
            break
    assert min(ratios) <= persona_parse.LINEAR_RATIO, ratios


def test_hostile_long_lines_are_read_quickly() -> None:
    # Linear patterns (tests/review/test_regex_linear.py measures them): this only must finish.
    line = "ask " * 10_000
    persona = parse(f"## Role\n\n{line}\n\n" + "- **" + "a" * 20_000 + "\n")
    assert persona.instructions.startswith("## Role")
