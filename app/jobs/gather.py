"""Reading what a review needs from GitHub: the config and persona from the base branch, and
what the bot already said on the pull request.

The config and a repository persona are read at the **base** commit: a pull request must not be
able to switch its own gate off or rewrite its reviewer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from app.github.repo import RepoClient
from app.github.types import Comment, GitHubError
from app.jobs.persona_files import load_persona_file
from app.review.markers import finding_ids, is_summary
from app.review.persona import (
    DEFAULT_PERSONA,
    REPO_PERSONAS_DIR,
    Checklist,
    Persona,
    PersonaError,
    parse_persona,
    persona_file_name,
)
from app.review.render import posted_title
from app.review.repo_config import CONFIG_PATH, RepoConfig, RepoConfigError, parse_repo_config

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    config: RepoConfig
    problem: str | None  # the file exists but cannot be used: the defaults apply, and we say so


async def load_config(repo: RepoClient, base_sha: str) -> LoadedConfig:
    try:
        text = await repo.file_text(base_sha, CONFIG_PATH)
    except GitHubError as exc:
        if exc.transient:
            raise
        return LoadedConfig(RepoConfig(), f"{CONFIG_PATH} could not be read: {exc.reason}")
    if text is None:
        return LoadedConfig(RepoConfig(), None)
    try:
        return LoadedConfig(parse_repo_config(text), None)
    except RepoConfigError as exc:
        return LoadedConfig(RepoConfig(), f"{CONFIG_PATH}: {'; '.join(exc.problems)}")


@dataclass(frozen=True, slots=True)
class LoadedPersona:
    persona: Persona
    checklists: tuple[Checklist, ...]
    problem: str | None  # the configured persona could not be used: the default applies


async def load_persona(
    repo: RepoClient, base_sha: str, name: str | None, bundled_dir: Path
) -> LoadedPersona:
    """The configured persona: the repository's file at the base commit, else a bundled one.

    Without a name, the bundled default (no API call). A persona that cannot be found or
    parsed is reported and the default used, so a typo does not stop the review.
    """
    default = _bundled(DEFAULT_PERSONA, bundled_dir)
    if name is None:
        return LoadedPersona(default, default.checklists, None)
    try:
        persona = await _named(repo, base_sha, name, bundled_dir)
    except PersonaError as exc:
        return LoadedPersona(default, default.checklists, f"persona {name!r}: {exc}")
    return LoadedPersona(persona, persona.checklists or default.checklists, None)


async def _named(repo: RepoClient, base_sha: str, name: str, bundled_dir: Path) -> Persona:
    file_name = persona_file_name(name)
    path = f"{REPO_PERSONAS_DIR}/{file_name}"
    try:
        text = await repo.file_text(base_sha, path)
    except GitHubError as exc:
        if exc.transient:
            raise
        raise PersonaError(f"{path} could not be read: {exc.reason}") from None
    if text is not None:
        return parse_persona(text, source=path)
    return _bundled(name, bundled_dir)


def _bundled(name: str, bundled_dir: Path) -> Persona:
    path = bundled_dir / persona_file_name(name)
    if not path.is_file():
        raise PersonaError(f"not found in {REPO_PERSONAS_DIR}/ nor among the bundled personas")
    return load_persona_file(path, label=f"{bundled_dir.name}/{path.name}")


@dataclass(frozen=True, slots=True)
class OnThePr:
    """What the bot already said on the pull request (GitHub is the record, not our database)."""

    previous: dict[str, str] = field(default_factory=dict)  # finding id -> title ("" unknown)
    summary_comment_id: int | None = None


def read_our_comments(comments: list[Comment], bot_login: str) -> OnThePr:
    """Finding ids from our comments' markers and our summary; other people's are ignored:
    anyone can write a marker into their own comment."""
    previous: dict[str, str] = {}
    summary_id: int | None = None
    for comment in comments:
        if comment.author != bot_login:
            continue
        if comment.kind == "issue" and is_summary(comment.body):
            summary_id = summary_id or comment.id
            for finding_id in finding_ids(comment.body):
                previous.setdefault(finding_id, "")
        elif comment.kind == "review":
            title = posted_title(comment.body)
            for finding_id in finding_ids(comment.body):
                if title or finding_id not in previous:
                    previous[finding_id] = title
    return OnThePr(previous, summary_id)
