"""`backend-review persona show FILE`: what a persona file becomes, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.main import main

PERSONA = """\
---
name: payments
description: Reviews the payments service.
tools: Read, Bash
---

# Payments reviewer

Amounts are integers in minor units. Ask the user which currency applies.

## Task Management

Keep your todo list in tasks.md.

## Checklists

### Security
- `ssrf` Outbound calls go through the egress proxy.
- Refund endpoints check the order's owner.

### Money
- Amounts are integers in minor units.
"""


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BACKEND_REVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BACKEND_REVIEW_PERSONAS_DIR", raising=False)


def write(tmp_path: Path, text: str, name: str = "payments.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_show_prints_name_checklists_with_origin_and_what_was_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, PERSONA)

    assert main(["persona", "show", str(path)]) == 0

    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "persona: payments"
    assert lines[1] == f"file: {path} (claude-code)"
    assert "description: Reviews the payments service." in lines
    assert "checklists: 29 item(s): the built-in ones, 3 item(s) added or rewritten" in out
    assert any(line.split()[:2] == ["security.authz-boundary", "built-in"] for line in lines)
    assert any(line.split()[:2] == ["security.ssrf", "rewritten"] for line in lines)
    assert any(
        line.split()[:2] == ["security.refund-endpoints-check-orders-owner", "document"]
        for line in lines
    )
    assert any(
        line.split()[:2] == ["money.amounts-are-integers-in-minor", "document"] for line in lines
    )
    assert "left out of the prompt: 2" in lines
    assert '  "Task Management" (section)' in lines
    assert '  "Payments reviewer": Ask the user which currency applies.' in lines
    assert "note: ignored front-matter keys: tools" in lines
    assert "todo list" not in out


def test_show_json_has_the_same_facts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, PERSONA)

    assert main(["persona", "show", str(path), "--json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "payments"
    assert data["checklists_mode"] == "extend"
    items = {i["id"]: i["origin"] for c in data["checklists"] for i in c["items"]}
    assert len(items) == 29
    assert items["security.ssrf"] == "rewritten"
    assert items["plan.files-per-change"] == "built-in"
    assert [(p["heading"], p["rule"]) for p in data["left_out"]] == [
        ("Payments reviewer", "ask-user"),
        ("Task Management", "task-management"),
    ]
    assert "excerpt" not in data["left_out"][1]
    assert data["instructions"].startswith("# Payments reviewer")
    assert "Task Management" not in data["instructions"]


def test_show_names_repeats_of_built_in_items_and_prints_instructions_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "# Reviewer\n\nBe brief.\n\n## Checklists\n\n### Data\n"
        "- Newly stored data, personal data above all, has a retention or deletion rule.\n"
    )
    path = write(tmp_path, text)

    assert main(["persona", "show", str(path), "--instructions"]) == 0

    out = capsys.readouterr().out
    assert "checklists: 27 item(s): the built-in ones, 0 item(s) added" in out
    assert "  not added, the same as data.retention: Newly stored data" in out
    assert "left out of the prompt: nothing" in out
    assert out.rstrip().endswith("# Reviewer\n\nBe brief.")


def test_show_replace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "---\nchecklists: replace\n---\nBe brief.\n\n## Checklists\n- Only this.\n"
    path = write(tmp_path, text)

    assert main(["persona", "show", str(path)]) == 0

    out = capsys.readouterr().out
    assert "checklists: 1 item(s): the document's own, replacing the built-in ones" in out
    assert "general.only-this" in out


def test_the_bundled_persona_shows_its_27_items_as_built_in(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = Path(__file__).resolve().parents[2] / "personas" / "backend-engineer.md"
    assert main(["persona", "show", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    origins = [i["origin"] for c in data["checklists"] for i in c["items"]]
    assert origins == ["built-in"] * 27
    assert data["left_out"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\nname: [a\n---\nBody.\n", "invalid YAML front matter at line 2"),
        ("---\nchecklists: merge\n---\nBody.\n", "`checklists` must be"),
        ("## Tools\n\n- bash\n", "the persona is empty"),
        ("", "the persona is empty"),
    ],
)
def test_a_malformed_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    path = write(tmp_path, text, "bad.md")

    assert main(["persona", "show", str(path)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"backend-review: error: {path}: ")
    assert expected in captured.err
    assert captured.err.count("\n") == 1


def test_a_missing_or_binary_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["persona", "show", str(tmp_path / "nope.md")]) == 2
    assert capsys.readouterr().err == (
        f"backend-review: error: persona file not found: {tmp_path / 'nope.md'}\n"
    )
    binary = tmp_path / "image.md"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    assert main(["persona", "show", str(binary)]) == 2
    assert "not UTF-8 text" in capsys.readouterr().err


def test_a_directory_is_named_as_one_not_as_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["persona", "show", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"backend-review: error: {tmp_path} is a directory, ")
    assert "not a persona file" in captured.err
    assert "not found" not in captured.err
    assert captured.err.count("\n") == 1


def test_show_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["persona", "show"])
    assert caught.value.code == 2
    assert "usage: backend-review persona show" in capsys.readouterr().err
