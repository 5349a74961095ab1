"""`backend-review config check FILE`: is this `.github/backend-review.yml` valid, and what does
it amount to? Exit 0 valid (prints "ok" and the effective config, defaults filled in), 1 with
one line per problem, 2 when the file cannot be read."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from app.admin.common import AdminError, Subparsers, command
from app.review.repo_config import CONFIG_PATH, RepoConfigError, parse_repo_config

MAX_BYTES = 1024 * 1024  # far above any real config; a larger file is not one


def register(sub: Subparsers) -> None:
    config = sub.add_parser("config", help="repository config files")
    actions = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check", help=f"validate a repo config file ({CONFIG_PATH}) and print the effective one"
    )
    check.add_argument("file", metavar="FILE")
    check.set_defaults(func=cmd_check)


@command
def cmd_check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise AdminError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    if len(data) > MAX_BYTES:
        raise AdminError(f"{path}: larger than {MAX_BYTES // 1024} KiB; not a config file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AdminError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        config = parse_repo_config(text)
    except RepoConfigError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}".replace("\n", "\\n"))  # one line each
        return 1
    refused = persona_model_problems(path, config.persona)
    if refused:
        for problem in refused:
            print(problem)
        return 1
    print("ok")
    print(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False).rstrip())
    return 0


def persona_model_problems(path: Path, persona: str | None) -> list[str]:
    """The persona the config picks (or the default), if its `model:` is one the capability
    table lacks: one line. A persona's `model` is used on the direct API (docs/personas.md).

    The repository is the folder holding `.github/`; a persona that cannot be read is left to
    the review, which reports it."""
    from app.jobs.persona_files import bundled_personas_dir, resolve_persona
    from app.llm.capabilities import refusal
    from app.review.persona import PersonaError

    root = path.parent.parent if path.parent.name == ".github" else path.parent
    try:
        found = resolve_persona(persona, repo_root=root, bundled_dir=bundled_personas_dir())
    except PersonaError:
        return []
    refused = refusal("anthropic", found.model) if found.model else None
    if refused is None:
        return []
    return [f"{path}: persona {found.source}: {refused}; its review would run without the model"]
