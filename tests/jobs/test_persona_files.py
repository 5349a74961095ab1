"""Persona files on disk: reading, decoding, and where a persona name is looked up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import app
from app.jobs.persona_files import bundled_personas_dir, load_persona_file, resolve_persona
from app.review.persona import DEFAULT_PERSONA, MAX_PERSONA_CHARS, REPO_PERSONAS_DIR, PersonaError
from app.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "review" / "personas"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def repo_persona(root: Path, name: str, heading: str) -> Path:
    return write(root / REPO_PERSONAS_DIR / f"{name}.md", f"# {heading}\n\nReview it.\n")


def test_the_bundled_directory_holds_the_default_persona() -> None:
    directory = bundled_personas_dir()

    assert directory.name == "personas"
    assert (directory / f"{DEFAULT_PERSONA}.md").is_file()
    assert bundled_personas_dir(Path("/elsewhere")) == Path("/elsewhere")


def test_load_persona_file_labels_the_persona() -> None:
    path = FIXTURES / "plain.md"

    assert load_persona_file(path).source == str(path)
    assert load_persona_file(path, label="personas/plain.md").source == "personas/plain.md"
    assert load_persona_file(path).name == "Queue consumer reviewer"


def test_undecodable_bytes_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("# Caf\u00e9 reviewer\n".encode("latin-1"))

    with pytest.raises(
        PersonaError, match=r"^team/latin1\.md: not UTF-8 text \(bad byte at offset 5\)"
    ):
        load_persona_file(path, label="team/latin1.md")


def test_a_missing_file_or_a_directory_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "nope.md"
    with pytest.raises(PersonaError, match="No such file") as info:
        load_persona_file(missing)
    assert str(info.value).startswith(f"cannot read {missing}: ")

    with pytest.raises(PersonaError, match=f"cannot read {tmp_path}: "):
        load_persona_file(tmp_path)


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    path.write_bytes(b"x" * (MAX_PERSONA_CHARS * 4 + 1))

    with pytest.raises(PersonaError, match="larger than"):
        load_persona_file(path)


def test_binary_files_are_refused(tmp_path: Path) -> None:
    png = tmp_path / "image.md"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    nul = tmp_path / "nul.md"
    nul.write_bytes(b"# Title\n\x00\x01\x02")

    with pytest.raises(PersonaError, match=r"^x/image\.md: not UTF-8 text"):
        load_persona_file(png, label="x/image.md")
    with pytest.raises(PersonaError, match=r"^x/nul\.md: contains a NUL byte"):
        load_persona_file(nul, label="x/nul.md")


def test_the_repository_persona_wins_over_the_bundled_one(tmp_path: Path) -> None:
    repo, bundled = tmp_path / "repo", tmp_path / "bundled"
    repo_persona(repo, "team", "From the repository")
    write(bundled / "team.md", "# Bundled\n\nReview it.\n")

    persona = resolve_persona("team", repo_root=repo, bundled_dir=bundled)

    assert persona.name == "From the repository"
    assert persona.source == f"{REPO_PERSONAS_DIR}/team.md"


def test_the_bundled_persona_is_used_when_the_repository_has_none(tmp_path: Path) -> None:
    repo, bundled = tmp_path / "repo", tmp_path / "bundled"
    repo_persona(repo, "other", "Not this one")
    write(bundled / "team.md", "# Bundled\n\nReview it.\n")

    for root in (repo, None):
        persona = resolve_persona("personas/team.md", repo_root=root, bundled_dir=bundled)
        assert (persona.name, persona.source) == ("Bundled", "bundled/team.md")


def test_no_name_means_the_default_persona() -> None:
    persona = resolve_persona(None, repo_root=None, bundled_dir=bundled_personas_dir())

    assert persona.name == DEFAULT_PERSONA
    assert persona.source == "personas/backend-engineer.md"
    assert persona.kind == "backend-review"


def test_not_found_lists_every_place_looked_in(tmp_path: Path) -> None:
    repo, bundled = tmp_path / "repo", tmp_path / "bundled"

    with pytest.raises(PersonaError) as info:
        resolve_persona("ghost", repo_root=repo, bundled_dir=bundled)

    message = str(info.value)
    assert message.startswith("persona 'ghost' not found; looked in: ")
    assert str(repo / REPO_PERSONAS_DIR / "ghost.md") in message
    assert str(bundled / "ghost.md") in message


def test_a_bad_name_is_refused_before_any_lookup(tmp_path: Path) -> None:
    write(tmp_path / "secret.md", "# Outside\n")

    with pytest.raises(PersonaError, match=r"'\.\.' is not allowed"):
        resolve_persona("../secret", repo_root=tmp_path / "repo", bundled_dir=tmp_path / "b")


def test_a_repository_persona_may_not_link_outside_the_checkout(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside.md", "# Outside\n\nNot yours.\n")
    repo = tmp_path / "repo"
    link = repo / REPO_PERSONAS_DIR / "team.md"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)

    with pytest.raises(PersonaError, match=r"team\.md: points outside the repository"):
        resolve_persona("team", repo_root=repo, bundled_dir=tmp_path / "bundled")


def test_the_settings_directory_replaces_the_bundled_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "own-personas"
    write(own / f"{DEFAULT_PERSONA}.md", "# Our house reviewer\n\nReview it our way.\n")
    monkeypatch.setenv("BACKEND_REVIEW_PERSONAS_DIR", str(own))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    persona = resolve_persona(
        None, repo_root=None, bundled_dir=bundled_personas_dir(settings.personas_dir)
    )

    assert persona.name == "Our house reviewer"
    assert persona.source == f"own-personas/{DEFAULT_PERSONA}.md"


def test_the_seed_agent_files_load_from_disk() -> None:
    configured = os.environ.get("BACKEND_REVIEW_SEEDS_DIR")
    seeds = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds"
    )
    if not seeds.is_dir():
        pytest.skip(f"seed persona files not found at {seeds} (set BACKEND_REVIEW_SEEDS_DIR)")
    paths = sorted(seeds.glob("*.txt"))

    personas = [load_persona_file(path, label=path.name) for path in paths]

    assert len(personas) == 5
    assert {p.kind for p in personas} == {"text", "claude-code", "opencode", "copilot-prompt"}
    assert all(p.instructions for p in personas)


def test_an_installed_copy_finds_the_personas_under_its_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "lib" / "site-packages" / "app"
    site.mkdir(parents=True)
    monkeypatch.setattr(app, "__file__", str(site / "__init__.py"))
    shared = tmp_path / "share" / "backend-review" / "personas"
    shared.mkdir(parents=True)
    monkeypatch.setattr("sys.prefix", str(tmp_path))

    assert bundled_personas_dir() == shared
    assert bundled_personas_dir(tmp_path / "mine") == tmp_path / "mine"
