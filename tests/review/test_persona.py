"""The persona parser: our format, the foreign agent formats, checklists, ids and errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.review.persona import (
    MAX_PERSONA_CHARS,
    Persona,
    PersonaError,
    parse_persona,
    persona_file_name,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "personas"

# The ids the issue asks the default persona to cover, checklist by checklist.
DEFAULT_IDS = {
    "Plan": [
        "files-per-change",
        "migrations-first",
        "tests-with-change",
        "observability-with-change",
    ],
    "Security": [
        "authz-boundary",
        "deny-by-default",
        "pii-and-secrets",
        "input-validation",
        "injection",
        "ssrf",
        "mass-assignment",
    ],
    "Data": ["indexes", "batched-backfills", "constraints", "retention"],
    "API": ["contract", "idempotency", "error-envelope", "cursor-pagination", "rate-limits"],
    "Performance": ["n-plus-one", "caching", "concurrency"],
    "Operations": ["logs", "metrics", "health-probes", "graceful-shutdown"],
}


def parse(text: str, source: str = "personas/test.md") -> Persona:
    return parse_persona(text, source=source)


def fixture(name: str) -> Persona:
    return parse((FIXTURES / name).read_text(encoding="utf-8"), source=f"fixtures/{name}")


def seeds_dir() -> Path:
    configured = os.environ.get("BACKEND_REVIEW_SEEDS_DIR")
    return Path(configured) if configured else REPO / ".." / "shared" / "seeds"


# --- the default persona ---------------------------------------------------------------------


def test_default_persona_is_our_format_with_the_six_checklists() -> None:
    path = REPO / "personas" / "backend-engineer.md"
    text = path.read_text(encoding="utf-8")
    persona = parse(text, source="personas/backend-engineer.md")

    assert persona.kind == "backend-review"
    assert persona.name == "backend-engineer"
    assert persona.model is None
    assert persona.version is not None
    assert persona.description
    assert persona.notes == ()
    assert [c.title for c in persona.checklists] == list(DEFAULT_IDS)
    for checklist in persona.checklists:
        slug = checklist.title.lower()
        assert [i.id for i in checklist.items] == [
            f"{slug}.{x}" for x in DEFAULT_IDS[checklist.title]
        ]
        assert all(
            len(item.text) > 40 and not item.text.startswith("`") for item in checklist.items
        )
    assert "15 files" in persona.checklists[0].items[0].text
    assert persona.instructions.startswith("# Backend engineer")
    assert "## Checklists" not in persona.instructions
    assert "`authz-boundary`" not in persona.instructions
    assert len(text) < 6_500  # it goes into every model call


# --- our five fixture styles -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "kind", "name"),
    [
        ("claude_code_agent.md", "claude-code", "handler-auditor"),
        ("opencode_agent.md", "opencode", "Database access reviewer"),
        ("copilot.prompt.md", "copilot-prompt", "Query safety check"),
        ("plain.md", "markdown", "Queue consumer reviewer"),
        ("plain.txt", "text", "plain"),
    ],
)
def test_fixture_styles_load_as_personas(file: str, kind: str, name: str) -> None:
    persona = fixture(file)

    assert (persona.kind, persona.name) == (kind, name)
    assert persona.instructions
    assert not persona.instructions.startswith("---")
    assert persona.checklists == ()


def test_claude_code_agent_keeps_a_claude_model_and_ignores_its_tools() -> None:
    persona = fixture("claude_code_agent.md")

    assert persona.model == "claude-sonnet-4-5"
    assert persona.description.startswith("Audits HTTP handlers")
    assert persona.notes == ("ignored front-matter keys: color, tools",)
    assert "Read, Grep" not in persona.instructions


def test_opencode_agent_drops_a_foreign_model_with_a_note() -> None:
    persona = fixture("opencode_agent.md")

    assert persona.model is None
    assert any("'example-provider/quick-model'" in note for note in persona.notes)
    assert "ignored front-matter keys: mode, permission, temperature, tools" in persona.notes
    assert "webfetch" not in persona.instructions


def test_copilot_prompt_body_keeps_its_later_rules() -> None:
    persona = fixture("copilot.prompt.md")

    assert persona.description == "Check a change for risky SQL"
    assert persona.instructions.startswith("Use this prompt")
    assert persona.instructions.count("\n---\n") == 2
    assert "Parameters, never string formatting." in persona.instructions


@pytest.mark.parametrize(
    ("model", "kept"),
    [
        ("claude-opus-4-1", "claude-opus-4-1"),
        ("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("sonnet", None),
        ("Claude Sonnet 4", None),
        ("gpt-5", None),
    ],
)
def test_only_a_claude_model_id_is_kept(model: str, kept: str | None) -> None:
    persona = parse(f"---\nmodel: {model}\n---\nReview carefully.\n")

    assert persona.model == kept
    assert (persona.notes == ()) == (kept is not None)


# --- the real seed files (read-only, outside the repository) ----------------------------------


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("000", "text"),
        ("001", "text"),
        ("002", "claude-code"),
        ("003", "opencode"),
        ("004", "copilot-prompt"),
    ],
)
def test_seed_agent_files_load_as_personas(prefix: str, kind: str) -> None:
    directory = seeds_dir()
    if not directory.is_dir():
        pytest.skip(f"seed persona files not found at {directory} (set BACKEND_REVIEW_SEEDS_DIR)")
    [path] = sorted(directory.glob(f"{prefix}_*.txt"))
    text = path.read_text(encoding="utf-8")

    persona = parse(text, source=path.name)

    assert persona.kind == kind
    assert persona.name
    assert len(persona.instructions) > 1_000
    assert not persona.instructions.startswith("---")
    if kind in ("opencode", "copilot-prompt", "claude-code"):
        assert persona.notes[0].startswith("ignored front-matter keys: ")
    if kind == "opencode":
        assert persona.model is None
        assert any("not a Claude model" in note for note in persona.notes)


# --- checklists --------------------------------------------------------------------------------


def test_front_matter_checklists_as_a_mapping_with_explicit_and_derived_ids() -> None:
    persona = parse(
        "---\nchecklists:\n  Data & Storage:\n    - '`idx` Index new lookups.'\n"
        "    - Batch backfills.\n  Security:\n    - '`authz`: Check access at the boundary.'\n"
        "---\nReview carefully.\n"
    )

    assert persona.kind == "backend-review"
    assert persona.checklist_ids == (
        "data-storage.idx",
        "data-storage.batch-backfills",
        "security.authz",
    )
    assert [c.title for c in persona.checklists] == ["Data & Storage", "Security"]
    assert persona.checklists[0].items[0].text == "Index new lookups."
    assert persona.checklists[1].items[0].text == "Check access at the boundary."


def test_front_matter_checklists_as_a_list_of_title_and_items() -> None:
    persona = parse(
        "---\nchecklists:\n  - title: API\n"
        "    items: [Retries are safe., Errors share one shape.]\n---\n"
    )

    assert persona.checklist_ids == ("api.retries-are-safe", "api.errors-share-one-shape")
    assert persona.instructions == ""


BODY_SECTION = """\
# Reviewer

Be brief.

## Review checklist

- Loose item that belongs to no sub-heading.

### Security
- `authz` Check access at the boundary,
  before any data is read.
* Second item.
+ Third item.

A paragraph that is not an item.

### Data
1. `idx` Index new lookups.
2) Batch backfills.

### Empty

## Afterword

Kept in the instructions.
"""


def test_body_checklists_section_is_parsed_and_removed_from_the_instructions() -> None:
    persona = parse(BODY_SECTION)

    assert persona.kind == "backend-review"
    assert persona.name == "Reviewer"
    assert [c.title for c in persona.checklists] == ["General", "Security", "Data"]
    assert persona.checklist_ids == (
        "general.loose-item-that-belongs-to",
        "security.authz",
        "security.second-item",
        "security.third-item",
        "data.idx",
        "data.batch-backfills",
    )
    assert persona.checklists[1].items[0].text == (
        "Check access at the boundary, before any data is read."
    )
    assert (
        persona.instructions
        == "# Reviewer\n\nBe brief.\n\n## Afterword\n\nKept in the instructions."
    )
    assert "text in the Checklists section that is not a list item was ignored" in persona.notes
    assert "checklist 'Empty' has no items and was skipped" in persona.notes


def test_front_matter_checklists_win_over_the_body_section() -> None:
    persona = parse("---\nchecklists:\n  Plan: [Small changes.]\n---\n" + BODY_SECTION)

    assert persona.checklist_ids == ("plan.small-changes",)
    assert any("Checklists section was ignored" in note for note in persona.notes)
    assert "Check access" not in persona.instructions


def test_a_checklists_heading_without_items_or_inside_code_stays_in_the_instructions() -> None:
    text = "# R\n\n```\n## Checklists\n- not an item\n```\n\n## Checklists\n\nNone yet.\n"
    persona = parse(text)

    assert persona.checklists == ()
    assert persona.kind == "markdown"
    assert persona.instructions == text.strip()


def test_a_leading_code_span_that_is_not_an_id_stays_in_the_text() -> None:
    persona = parse(
        "## Checklists\n- `SELECT *` in a hot path.\n- `n-plus-one` - No query per row.\n"
    )

    assert persona.checklist_ids == ("general.select-in-hot-path", "general.n-plus-one")
    assert persona.checklists[0].items[0].text == "`SELECT *` in a hot path."
    assert persona.checklists[0].items[1].text == "No query per row."


# --- kinds and names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "source", "kind"),
    [
        ("---\nname: x\ndescription: y\n---\nBody.\n", "a.md", "backend-review"),
        ("---\nname: x\ntools: [Read]\n---\nBody.\n", "a.md", "claude-code"),
        ("---\nmode: primary\n---\nBody.\n", "a.md", "opencode"),
        ("---\nmode: ask\n---\nBody.\n", "a.md", "copilot-prompt"),
        ("Just body.\n", "x/review.prompt.md", "copilot-prompt"),
        ("---\nauthor: someone\n---\nBody.\n", "a.md", "markdown"),
        ("## Checklists\n- An item.\n", "a.md", "backend-review"),
    ],
)
def test_kind_detection(text: str, source: str, kind: str) -> None:
    assert parse(text, source=source).kind == kind


def test_name_falls_back_to_the_first_heading_outside_code_then_the_file_stem() -> None:
    assert parse("```\n# not this\n```\n\n## Real one ##\n").name == "Real one"
    assert parse("No headings here.", source="dir/team.prompt.md").name == "team"


# --- front matter edge cases ---------------------------------------------------------------------


def test_crlf_and_bom_parse_like_plain_newlines() -> None:
    text = (FIXTURES / "claude_code_agent.md").read_text(encoding="utf-8")
    expected = parse(text)

    assert parse("\ufeff" + text.replace("\n", "\r\n")) == expected


def test_a_leading_rule_without_a_closing_line_is_body() -> None:
    persona = parse("---\nname: not front matter\n\nJust text.\n")

    assert persona.name == "test"
    assert persona.kind == "text"
    assert persona.instructions.startswith("---\nname: not front matter")


def test_dots_close_front_matter_and_empty_front_matter_is_fine() -> None:
    assert parse("---\nname: dotted\n...\nBody.\n").name == "dotted"
    assert parse("---\n---\nBody.\n").instructions == "Body."


def test_versions_and_scalars_are_kept_as_written() -> None:
    assert parse("---\nversion: 2025-08-13\n---\nBody.\n").version == "2025-08-13"
    assert parse("---\nversion: 3\nname: 42\n---\nBody.\n").version == "3"
    assert parse("---\nname: 42\n---\nBody.\n").name == "42"


# --- errors --------------------------------------------------------------------------------------


def error(text: str, source: str = "personas/test.md") -> str:
    with pytest.raises(PersonaError) as info:
        parse(text, source=source)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_broken_yaml_names_the_file_line_and_column() -> None:
    message = error("---\nname: ok\ndescription: a: b\n---\nBody.\n")

    assert message.startswith("personas/test.md: invalid YAML front matter at line 3, column 15")
    assert "mapping values are not allowed" in message
    assert "line 4," in error("\ufeff\n---\nname: ok\ndescription: a: b\n---\nBody.\n")


@pytest.mark.parametrize("front", ["- a\n- b", "just words", "42"])
def test_front_matter_must_be_a_mapping(front: str) -> None:
    assert "must be a mapping" in error(f"---\n{front}\n---\nBody.\n")


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("checklists: yes", "`checklists` must be a mapping of title to a list"),
        ("checklists: [1, 2]", "`checklists` entry 1: expected"),
        ("checklists:\n  Security: not a list", "'Security': items must be a non-empty list"),
        ("checklists:\n  Security: []", "'Security': items must be a non-empty list"),
        ("checklists:\n  Security: ['']", "'Security': item 1 must be non-empty text"),
        ("checklists:\n  Security: [ok, 3]", "'Security': item 2 must be non-empty text"),
        ("checklists:\n  - title: ''\n    items: [a]", "entry 1: title must be text"),
        ("name: [a, b]", "`name` must be text, not a list"),
        ("description: {a: b}", "`description` must be text, not a mapping"),
        ("version: yes", "`version` must be text, not a true/false value (quote it)"),
    ],
)
def test_wrong_types_on_known_keys_name_the_key(front: str, expected: str) -> None:
    message = error(f"---\n{front}\n---\nBody.\n")

    assert message.startswith("personas/test.md: ")
    assert expected in message


def test_duplicate_item_ids_are_an_error() -> None:
    text = "---\nchecklists:\n  Security: ['`x` One.', '`x` Two.']\n---\n"
    assert "duplicate checklist item id 'security.x'" in error(text)
    same = error("## Checklists\n### API\n- a\n### api\n- b\n")
    assert "checklists 'API' and 'api' have the same id 'api'" in same


@pytest.mark.parametrize("text", ["", "  \n\n", "---\nname: x\n---\n  \n", "\ufeff"])
def test_an_empty_persona_is_an_error(text: str) -> None:
    assert "is empty" in error(text)


def test_nul_bytes_and_oversized_text_are_errors() -> None:
    assert "NUL byte" in error("Review.\x00\x01")
    assert f"{MAX_PERSONA_CHARS:,}" in error("x" * (MAX_PERSONA_CHARS + 1))
    assert parse("x" * MAX_PERSONA_CHARS).instructions


# --- persona_file_name ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "file"),
    [
        ("x", "x.md"),
        ("x.md", "x.md"),
        (" team.v2 ", "team.v2.md"),
        (".github/backend-review/personas/x.md", "x.md"),
        ("personas/x.md", "x.md"),
        ("personas/x", "x.md"),
    ],
)
def test_persona_file_name_normalises(value: str, file: str) -> None:
    assert persona_file_name(value) == file


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("../x", "'..'"),
        ("personas/../x.md", "'..'"),
        ("/etc/passwd", "absolute"),
        ("a/b.md", "personas/"),
        ("personas/sub/x.md", "personas/"),
        ("x\\y.md", "backslashes"),
        ("my persona", "letters, digits"),
        (".hidden", "letters, digits"),
        ("x\x00", "letters, digits"),
    ],
)
def test_persona_file_name_rejects(value: str, expected: str) -> None:
    with pytest.raises(PersonaError, match="persona") as info:
        persona_file_name(value)
    assert expected in str(info.value)


def test_closing_hashes_and_long_blank_runs_in_headings() -> None:
    text = "Review.\n\n## Checklists ##\n\n### Security ###   \n- Check the caller.\n"
    persona = parse(text)
    assert [c.title for c in persona.checklists] == ["Security"]
    # A heading with a huge run of blanks is read (in linear time: the regex no longer
    # backtracks over it, which took minutes for a 60k-character line).
    long = parse(f"# Reviewer{' ' * 60_000}x\n\nBe strict.\n", source="personas/long.md")
    assert long.instructions.endswith("Be strict.")
