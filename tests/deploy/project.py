"""What the deploy files must agree with: the project's version, its settings, its defaults."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from app.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# docs/architecture.md: the app binds 127.0.0.1 locally and every interface in the image.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


def pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def version() -> str:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    return str(project["version"])


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: not a YAML mapping"
    return data


def settings_env_names() -> set[str]:
    """Every environment variable Settings reads."""
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias)
    return names


def default(name: str) -> object:
    """The default of the setting read from environment variable `name`."""
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices) and name in alias.choices:
            return field.default
    raise KeyError(name)


def settings_from(values: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings from exactly `values` (by environment name): the machine's own are cleared."""
    for name in settings_env_names():
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return load_settings(_env_file=None)
