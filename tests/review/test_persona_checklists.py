"""Checklist item ids from the item's text, and a persona's checklists on the built-in ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.review.persona import Checklist, Persona, PersonaError, checklists_for, parse_persona

REPO = Path(__file__).resolve().parents[2]


def parse(text: str) -> Persona:
    return parse_persona(text, source="personas/test.md")


def builtin() -> tuple[Checklist, ...]:
    path = REPO / "personas" / "backend-engineer.md"
    return parse_persona(path.read_text(encoding="utf-8"), source=str(path)).checklists


def section(*items: str, title: str = "Security", front: str = "") -> str:
    bullets = "\n".join(f"- {item}" for item in items)
    head = f"---\n{front}\n---\n" if front else ""
    return f"{head}Be strict.\n\n## Checklists\n\n### {title}\n{bullets}\n"


# --- ids -------------------------------------------------------------------------------------


def test_an_id_comes_from_the_explicit_id_the_bold_label_or_the_first_words() -> None:
    persona = parse(
        section(
            "`authz` Check access at the boundary.",
            "**Plan review:** completeness, files, migrations.",
            "**Secrets**: never in logs.",
            "Validate input at the boundary before it is stored anywhere at all.",
            "The cache has a key.",
        )
    )

    assert persona.checklist_ids == (
        "security.authz",
        "security.plan-review",
        "security.secrets",
        "security.validate-input-at-boundary-before",
        "security.cache-has-key",
    )
    assert persona.checklists[0].items[1].text == (
        "**Plan review:** completeness, files, migrations."
    )


def test_editing_inserting_or_removing_an_item_leaves_the_other_ids_alone() -> None:
    before = parse(section("Check access first.", "Never log secrets.", "Bound every query."))
    after = parse(
        section(
            "A brand new first item.",
            "Check access first, always.",
            "Bound every query.",
        )
    )

    assert before.checklist_ids == (
        "security.check-access-first",
        "security.never-log-secrets",
        "security.bound-every-query",
    )
    assert after.checklist_ids[1:] == (
        "security.check-access-first-always",
        "security.bound-every-query",
    )


def test_items_that_start_alike_are_told_apart_by_a_hash_of_the_later_one() -> None:
    first = parse(section("Every query uses an index on the filtered column."))
    both = parse(
        section(
            "Every query uses an index on the filtered column.",
            "Every query uses an index on the joined column.",
        )
    )

    base = "security.every-query-uses-index-on"
    assert first.checklist_ids == (base,)
    assert both.checklist_ids[0] == base
    assert both.checklist_ids[1].startswith(f"{base}-")
    assert len(both.checklist_ids[1]) == len(base) + 7  # "-" and six hex digits


def test_a_derived_id_never_takes_an_explicit_one_even_when_written_first() -> None:
    persona = parse(section("**Injection:** no string-built SQL.", "`injection` Use parameters."))

    [derived, explicit] = persona.checklist_ids
    assert explicit == "security.injection"
    assert derived.startswith("security.injection-")


def test_an_item_written_twice_is_kept_once_with_a_note() -> None:
    persona = parse(section("Never log secrets.", "never  log secrets"))

    assert persona.checklist_ids == ("security.never-log-secrets",)
    assert any("appears twice" in note for note in persona.notes)


def test_an_item_of_symbols_only_still_gets_a_stable_id() -> None:
    [item_id] = parse(section("→ ← ↑")).checklist_ids
    assert item_id.startswith("security.")
    assert len(item_id) == len("security.") + 6
    assert parse(section("→ ← ↑")).checklist_ids == (item_id,)


def test_two_explicit_ids_alike_are_an_error() -> None:
    with pytest.raises(PersonaError, match=r"duplicate checklist item id 'security\.x'"):
        parse(section("`x` One.", "`x` Two."))


# --- extend and replace ----------------------------------------------------------------------


def test_a_persona_extends_the_built_in_checklists_by_title_and_with_new_ones() -> None:
    persona = parse(
        "Be strict.\n\n## Checklists\n\n### Security\n- Tokens expire within an hour.\n"
        "### Money\n- Amounts are integers in minor units.\n"
    )

    merged = checklists_for(persona, builtin())

    titles = [c.title for c in merged.checklists]
    assert titles == ["Plan", "Security", "Data", "API", "Performance", "Operations", "Money"]
    security = merged.checklists[1]
    assert len(security.items) == 8
    assert security.items[-1].id == "security.tokens-expire-within-hour"
    assert security.items[0].id == "security.authz-boundary"
    assert merged.from_document == {
        "security.tokens-expire-within-hour",
        "money.amounts-are-integers-in-minor",
    }
    assert merged.mode == "extend"
    assert sum(len(c.items) for c in merged.checklists) == 29


def test_an_item_with_a_built_in_items_text_is_not_added_twice() -> None:
    text = next(c for c in builtin() if c.title == "Data").items[3].text
    persona = parse(section(text.upper(), "Something new.", title="Data"))

    merged = checklists_for(persona, builtin())

    assert [(item.text, same) for item, same in merged.skipped] == [
        (text.upper(), "data.retention")
    ]
    assert merged.from_document == {"data.something-new"}
    assert sum(len(c.items) for c in merged.checklists) == 28


def test_the_default_persona_extends_itself_to_exactly_itself() -> None:
    path = REPO / "personas" / "backend-engineer.md"
    default = parse_persona(path.read_text(encoding="utf-8"), source=str(path))

    merged = checklists_for(default, default.checklists)

    assert merged.checklists == default.checklists
    assert merged.from_document == frozenset()
    assert len(merged.skipped) == 27


def test_an_explicit_built_in_id_rewrites_that_item_in_place() -> None:
    persona = parse(section("`ssrf` Outbound calls go through the egress proxy only."))

    merged = checklists_for(persona, builtin())

    security = merged.checklists[1]
    ssrf = next(item for item in security.items if item.id == "security.ssrf")
    assert ssrf.text == "Outbound calls go through the egress proxy only."
    assert [i.id for i in security.items] == [i.id for i in builtin()[1].items]
    assert merged.replaced == {"security.ssrf"}


def test_a_derived_id_equal_to_a_built_in_id_is_added_beside_it() -> None:
    persona = parse(section("**Injection:** templates are escaped by the engine."))

    merged = checklists_for(persona, builtin())

    ids = [i.id for i in merged.checklists[1].items]
    assert "security.injection" in ids
    [added] = merged.from_document
    assert added.startswith("security.injection-")
    assert added in ids
    assert merged.replaced == frozenset()


def test_checklists_replace_uses_the_persona_s_own_checklists_alone() -> None:
    persona = parse(section("Tokens expire.", front="checklists: replace"))

    merged = checklists_for(persona, builtin())

    assert persona.checklist_mode == "replace"
    assert [i.id for c in merged.checklists for i in c.items] == ["security.tokens-expire"]
    assert merged.mode == "replace"


def test_checklists_extend_may_be_written_out() -> None:
    persona = parse(section("Tokens expire.", front="checklists: Extend"))
    assert persona.checklist_mode == "extend"
    assert sum(len(c.items) for c in checklists_for(persona, builtin()).checklists) == 28


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\nchecklists: replace\n---\nBe strict.\n", "`checklists: replace` needs checklists"),
        ("---\nchecklists: merge\n---\nBe strict.\n", "or 'extend' / 'replace', not a str"),
    ],
)
def test_replace_without_items_and_unknown_words_are_errors(text: str, expected: str) -> None:
    with pytest.raises(PersonaError) as info:
        parse(text)
    assert expected in str(info.value)
    assert str(info.value).startswith("personas/test.md: ")
