"""Slash-command parsing and the texts the bot answers with."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.review.anchor import Anchor
from app.review.commands import (
    ALLOWED_PERMISSIONS,
    Command,
    config_text,
    help_text,
    parse_command,
    refusal,
)
from app.review.findings import Finding
from app.review.persona import checklists_for, parse_persona
from app.review.render import comment_body, posted_title
from app.review.repo_config import RepoConfig

REPO = Path(__file__).resolve().parents[2]
BUILT_IN = parse_persona(
    (REPO / "personas" / "backend-engineer.md").read_text(encoding="utf-8"), source="default"
).checklists


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/backend-review", Command("review")),
        ("  /backend-review  \nplease", Command("review")),
        ("/backend-review review", Command("review")),
        ("/backend-review help", Command("help")),
        ("/backend-review HELP", Command("help")),
        ("/backend-review config", Command("config")),
        (
            "/backend-review ignore br-0123456789ab retries are idempotent upstream",
            Command(
                "ignore", finding_id="br-0123456789ab", reason="retries are idempotent upstream"
            ),
        ),
        (
            "/backend-review ignore `br-0123456789ab` ok\nsecond line is not the reason",
            Command("ignore", finding_id="br-0123456789ab", reason="ok"),
        ),
    ],
)
def test_commands(body: str, expected: Command) -> None:
    assert parse_command(body) == expected


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("/backend-review ignore", "give the finding id and a reason"),
        ("/backend-review ignore br-0123456789ab", "say why it can be ignored"),
        ("/backend-review ignore 42 because", "`42` is not a finding id"),
        ("/backend-review approve", "unknown command `approve`"),
        ("/backend-review <!--x-->", "unknown command `<\u200b!--x-->`"),
    ],
)
def test_bad_commands_say_what_is_wrong(body: str, problem: str) -> None:
    command = parse_command(body)
    assert command.problem is not None
    assert command.problem.startswith(problem)
    assert command.kind in ("ignore", "unknown")


def test_help_lists_every_command_and_prefixes_a_problem() -> None:
    text = help_text("unknown command `approve`")
    assert text.startswith("unknown command `approve`.\n\n")
    for word in ("help", "config", "ignore <finding-id> <reason>"):
        assert f"/backend-review {word}" in text
    assert "write" in refusal("mallory")
    assert {"admin", "maintain", "write"} == ALLOWED_PERMISSIONS


def test_config_text_shows_the_effective_values_and_persona() -> None:
    persona = parse_persona(
        "---\nname: payments\nchecklists:\n  Money:\n    - Amounts are integers.\n---\nBe strict.",
        source=".github/backend-review/personas/payments.md",
    )
    text = config_text(RepoConfig(max_files=20), persona, config_problem=None, base_ref="main")
    assert "max_files: 20" in text
    assert "fail_on: major" in text
    assert (
        "`payments` from `.github/backend-review/personas/payments.md` (1 checklists, 1 items)"
        in text
    )
    merged = checklists_for(persona, BUILT_IN)
    extended = config_text(
        RepoConfig(), persona, config_problem=None, base_ref="main", checklists=merged.checklists
    )
    assert "(7 checklists, 28 items)" in extended
    broken = config_text(
        RepoConfig(), persona, config_problem="max_files: not a number", base_ref="main"
    )
    assert "the defaults apply: max_files: not a number" in broken


def test_a_posted_comment_gives_back_its_title() -> None:
    finding = Finding.model_validate(
        {
            "id": "br-0123456789ab",
            "rule": "r",
            "source": "rule",
            "type": "evidence",
            "category": "api",
            "severity": "major",
            "title": "Refund amount unchecked",
            "where": {"path": "a.py", "lines": "3"},
            "evidence": "e",
            "recommendation": "r",
        }
    )
    body = comment_body(finding, Anchor("line", "a.py", line=3), suggest=False)
    assert posted_title(body) == "Refund amount unchecked"
    assert posted_title("**not ours**") == ""
