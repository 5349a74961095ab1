"""Persona files on disk: the bundled `personas/` directory and a repository's own personas.

The I/O edge of `app.review.persona`: it reads and decodes the bytes and leaves the parsing to
the pure core. The GitHub pipeline reads a repository's personas through the API instead and
uses the same parser.
"""

from __future__ import annotations

import sys
from pathlib import Path

import app
from app.review.persona import (
    DEFAULT_PERSONA,
    MAX_PERSONA_CHARS,
    REPO_PERSONAS_DIR,
    Persona,
    PersonaError,
    parse_persona,
    persona_file_name,
)

_MAX_BYTES = MAX_PERSONA_CHARS * 4  # no UTF-8 character takes more than four bytes


def bundled_personas_dir(override: Path | None = None) -> Path:
    """Bundled personas: `override` (settings.personas_dir), else `<repo root>/personas` (a
    checkout or an editable install), else `<prefix>/share/backend-review/personas` (a wheel
    installs them there)."""
    if override is not None:
        return override
    checkout = Path(app.__file__).resolve().parent.parent / "personas"
    installed = Path(sys.prefix) / "share" / "backend-review" / "personas"
    return checkout if checkout.is_dir() or not installed.is_dir() else installed


def load_persona_file(path: Path, *, label: str | None = None) -> Persona:
    """Read and parse one persona file; `label` names it in messages (default: the path)."""
    source = label if label is not None else str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_BYTES + 1)  # a huge file is refused without reading it all
    except OSError as exc:
        raise PersonaError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    if len(data) > _MAX_BYTES:
        raise PersonaError(
            f"{source}: larger than the {MAX_PERSONA_CHARS:,} characters a persona may have"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PersonaError(f"{source}: not UTF-8 text (bad byte at offset {exc.start})") from None
    return parse_persona(text, source=source)


def resolve_persona(name: str | None, *, repo_root: Path | None, bundled_dir: Path) -> Persona:
    """Persona `name` (None: the default): the repository's own first, then the bundled one."""
    requested = name if name is not None else DEFAULT_PERSONA
    file_name = persona_file_name(requested)
    # (path, label, the checkout it must stay inside)
    candidates: list[tuple[Path, str, Path | None]] = []
    if repo_root is not None:
        path = repo_root / REPO_PERSONAS_DIR / file_name
        candidates.append((path, f"{REPO_PERSONAS_DIR}/{file_name}", repo_root))
    candidates.append((bundled_dir / file_name, f"{bundled_dir.name}/{file_name}", None))
    for path, label, root in candidates:
        if not (path.exists() or path.is_symlink()):
            continue
        if root is not None and not path.resolve().is_relative_to(root.resolve()):
            # A repository's persona may be a symlink, but not to a file outside the checkout.
            raise PersonaError(f"{label}: points outside the repository")
        return load_persona_file(path, label=label)
    looked = ", ".join(str(path) for path, _, _ in candidates)
    raise PersonaError(f"persona {requested!r} not found; looked in: {looked}")
