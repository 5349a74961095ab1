"""What each seed agent document becomes: its name, the checklist items it adds, the sections
written for coding agents that are left out, and what stays for the reviewer.

The seed files live outside the repository (BACKEND_REVIEW_SEEDS_DIR, default ../shared/seeds);
the tests skip when they are absent. Only headings are named here, not their text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from app.review.persona import Persona, checklists_for, parse_persona
from tests.review.test_persona import seeds_dir

BUILT_IN_ITEMS = 27
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Seed:
    prefix: str
    kind: str
    name: str
    added: tuple[str, ...]  # the document's checklist ids, on top of the built-in 27
    sections: tuple[tuple[str, str], ...]  # (heading, rule) of the sections left out whole
    parts: tuple[tuple[str, str], ...]  # (heading, rule) of items or sentences left out
    kept: tuple[str, ...]  # headings that stay in the instructions


SEEDS = [
    Seed(
        "000",
        "text",
        "Backend Engineer",
        (),
        (
            ("When to use", "metadata"),
            ("Connections", "tools"),
            ("Response style", "output-format"),
            ("Structured response example", "output-format"),
            ("Metadata", "metadata"),
            ("Example use cases", "metadata"),
            ("Strengths", "metadata"),
            ("Works well with", "metadata"),
            ("Categories", "metadata"),
            ("Tags", "metadata"),
        ),
        (),
        ("Description", "Personality", "Scope", "Instructions", "Decision Rules"),
    ),
    Seed(
        "001",
        "text",
        "Backend Developer",
        (),
        (
            ("Inputs", "ask-user"),
            ("Working Approach", "workflow"),
            ("Outputs", "output-format"),
            ("Interaction with AI (Important)", "ask-user"),
            ("Authority", "escalation"),
        ),
        (),
        ("Purpose", "Responsibilities", "Non-Negotiables", "Quality Gates", "Anti-Patterns"),
    ),
    Seed(
        "002",
        "claude-code",
        "backend-engineer",
        (),
        (("Task Management", "task-management"), ("Working Process", "workflow")),
        (("Best Practices", "task-management"), ("Constraints", "workflow")),
        ("## Role Definition", "## Key Capabilities", "## Best Practices", "### Go Projects"),
    ),
    Seed(
        "003",
        "opencode",
        "Backend Engineer",
        (),
        (
            ("MULTI-TIER OUTPUT", "output-format"),
            ("QUICK LOOKUP CAPABILITIES", "tools"),
            ("ESCALATION PROCESS", "escalation"),
            ("COST/EFFORT TAGGING", "task-management"),
            ("AGENT INTERACTION PROTOCOLS", "escalation"),
        ),
        (("IDENTITY & CONTEXT", "escalation"),),
        ("## DECISION FRAMEWORK", "## KNOWLEDGE & TOOLING", "## CORE RESPONSIBILITIES"),
    ),
    Seed(
        "004",
        "copilot-prompt",
        "senior-backend-engineer",
        (
            "general.plan-review",
            "general.security",
            "general.data",
            "general.api",
            "general.performance",
            "general.observability-ops",
        ),
        (
            ("Required Inputs (Before Coding)", "ask-user"),
            ("Interaction Protocol", "ask-user"),
            ("Implementation Workflow", "workflow"),
            ("Output Format", "output-format"),
            ("Review Neuron Output", "output-format"),
            ("Pipeline Integration", "escalation"),
            ("Parameters", "metadata"),
            ("Handling Incomplete Inputs", "ask-user"),
        ),
        (
            ("(top of the document)", "metadata"),
            ("Role", "ask-user"),
            ("Role", "output-format"),
        ),
        ("## Role", "## Operating Constraints", "## Security Rules", "## Accessibility"),
    ),
]

# Words an agent section uses that must not reach the reviewer from any seed.
AGENT_WORDS = ("pause until", ".claude/tasks", "TodoWrite", "webfetch", "orchestrator", "CLAUDE.md")


def builtin_persona() -> Persona:
    path = REPO / "personas" / "backend-engineer.md"
    return parse_persona(path.read_text(encoding="utf-8"), source="personas/backend-engineer.md")


def load(prefix: str) -> Persona:
    directory = seeds_dir()
    if not directory.is_dir():
        pytest.skip(f"seed persona files not found at {directory} (set BACKEND_REVIEW_SEEDS_DIR)")
    [path] = sorted(directory.glob(f"{prefix}_*.txt"))
    return parse_persona(path.read_text(encoding="utf-8"), source=path.name)


@pytest.mark.parametrize("seed", SEEDS, ids=[s.prefix for s in SEEDS])
def test_seed_name_kind_and_checklists(seed: Seed) -> None:
    persona = load(seed.prefix)

    assert (persona.kind, persona.name) == (seed.kind, seed.name)
    merged = checklists_for(persona, builtin_persona().checklists)
    assert persona.checklist_ids == seed.added
    assert merged.from_document == set(seed.added)
    assert sum(len(c.items) for c in merged.checklists) == BUILT_IN_ITEMS + len(seed.added)
    # The built-in items and their ids are all still there.
    ids = {i.id for c in merged.checklists for i in c.items}
    assert set(builtin_persona().checklist_ids) <= ids


@pytest.mark.parametrize("seed", SEEDS, ids=[s.prefix for s in SEEDS])
def test_seed_sections_left_out_and_kept(seed: Seed) -> None:
    persona = load(seed.prefix)

    whole = [(p.heading, p.rule) for p in persona.left_out if not p.excerpt]
    parts = [(p.heading, p.rule) for p in persona.left_out if p.excerpt]
    assert whole == list(seed.sections)
    assert parts == list(seed.parts)
    assert all(p.reason for p in persona.left_out)
    kept_lines = persona.instructions.splitlines()
    for heading in seed.kept:
        assert heading in kept_lines
    for heading, _ in seed.sections:
        assert heading not in kept_lines
        assert f"## {heading}" not in kept_lines
    for words in AGENT_WORDS:
        assert words.lower() not in persona.instructions.lower(), words


@pytest.mark.parametrize("seed", SEEDS, ids=[s.prefix for s in SEEDS])
def test_seed_keeps_most_of_its_review_substance(seed: Seed) -> None:
    persona = load(seed.prefix)

    # Left out: the agent parts, never the whole document.
    assert len(persona.instructions) > 900
