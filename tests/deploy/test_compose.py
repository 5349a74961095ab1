"""deploy/compose.yml: valid Compose, PostgreSQL healthy before the app, no secret in the file."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from app.errors import ConfigError
from app.settings import registered_app_dir
from tests.deploy.project import (
    DEPLOY,
    ROOT,
    default,
    load_yaml,
    settings_env_names,
    settings_from,
    version,
)

COMPOSE = DEPLOY / "compose.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
# From check-jsonschema 0.39.0's wheel (schemas/README.md); the sha256 that wheel records.
SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"
SCHEMA_SHA256 = "d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64"
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?+][^}]*)?\}")
ONLY_INTERPOLATION = re.compile(r"^\$\{[A-Z0-9_]+(?::?[-?+][^}]*)?\}$")
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|_KEY)$")
URL_PASSWORD = re.compile(r"://[^/:@\s]+:(.*)@")


def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


def services() -> dict[str, Any]:
    result = compose()["services"]
    assert isinstance(result, dict)
    return result


def app_services() -> dict[str, Any]:
    return {name: svc for name, svc in services().items() if "backend-review" in svc["image"]}


def env_example() -> tuple[dict[str, str], dict[str, str]]:
    """(set, commented out) KEY=value lines of deploy/.env.example."""
    active: dict[str, str] = {}
    commented: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"(# )?([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            (commented if match.group(1) else active)[match.group(2)] = match.group(3)
    return active, commented


def interpolated() -> set[str]:
    return set(INTERPOLATION.findall(COMPOSE.read_text(encoding="utf-8")))


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert duration, duration
    assert match, duration
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_the_vendored_schema_is_the_recorded_one() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256


def test_compose_file_matches_the_compose_specification() -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(compose())]
    assert errors == []


def test_the_schema_catches_a_misspelled_key() -> None:
    broken = compose()
    broken["services"]["app"]["helthcheck"] = broken["services"]["app"].pop("healthcheck")
    assert any("helthcheck" in e.message for e in validator().iter_errors(broken))


def test_postgres_is_pinned_persistent_and_checked() -> None:
    postgres = services()["postgres"]
    assert re.fullmatch(r"postgres:\d+\.\d+[\w.-]*@sha256:[0-9a-f]{64}", postgres["image"])
    (mount,) = postgres["volumes"]
    volume, _, path = mount.partition(":")
    assert volume in compose()["volumes"], "a named volume, so data outlives the container"
    assert path == "/var/lib/postgresql/data"
    test = postgres["healthcheck"]["test"]
    assert test[:2] == ["CMD", "pg_isready"]


def test_the_data_directory_is_a_named_volume_so_a_registered_app_survives_down() -> None:
    """One-click registration writes the App (id, key, webhook secret) into the data directory,
    /data in the image: an anonymous volume there is left behind by `docker compose down`."""
    app = services()["app"]
    data_dir = app.get("environment", {}).get("BACKEND_REVIEW_DATA_DIR", "/data")
    assert data_dir == "/data"
    saved_in = registered_app_dir(Path(data_dir))
    mounts = [m.split(":") for m in app["volumes"]]
    named = [(volume, path) for volume, path, *_ in mounts if Path(path) in saved_in.parents]
    assert len(named) == 1, "exactly one volume holds the data directory"
    volume, path = named[0]
    assert volume in compose()["volumes"], "named, declared at the top level"
    assert path == data_dir
    assert not [m for m in mounts if len(m) > 2 and m[2] == "ro"], "the app writes there"
    for name, service in app_services().items():
        # Workers read the registered App at start like the app; they need the same volume.
        assert f"{volume}:{data_dir}" in {m.removesuffix(":ro") for m in service["volumes"]}, name


def test_the_app_waits_for_a_healthy_postgres() -> None:
    for name, service in app_services().items():
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name


def test_the_app_builds_this_repository_at_the_project_version() -> None:
    app = services()["app"]
    context = (DEPLOY / app["build"]["context"]).resolve()
    assert context == ROOT
    assert (context / app["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    for name, service in app_services().items():
        assert service["image"] == f"backend-review:{version()}", name


def test_the_app_is_healthy_only_when_ready_and_workers_skip_the_http_check() -> None:
    app = services()["app"]
    assert app["command"] == ["backend-review", "serve"]
    assert "/readyz" in " ".join(app["healthcheck"]["test"])
    published = [p.rsplit(":", 1)[-1] for p in app["ports"]]
    assert published == [str(default("BACKEND_REVIEW_PORT"))]
    worker = services()["worker"]
    assert worker["command"] == ["backend-review", "worker"]
    assert worker["healthcheck"] == {"disable": True}
    assert worker["profiles"] == ["workers"], "optional: `up` alone starts the app and postgres"


def test_stopping_leaves_time_to_drain() -> None:
    drain = default("BACKEND_REVIEW_DRAIN_SECONDS")
    assert isinstance(drain, int | float)
    for name, service in app_services().items():
        assert seconds(service["stop_grace_period"]) >= drain + 10, name


def test_the_containers_are_locked_down() -> None:
    for name, service in app_services().items():
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert "/tmp" in service["tmpfs"], name


def test_no_secret_is_written_in_the_file() -> None:
    for name, service in services().items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert ONLY_INTERPOLATION.match(str(value)), f"{name}.{key} is inline"
            password = URL_PASSWORD.search(str(value))
            if password:
                assert ONLY_INTERPOLATION.match(password.group(1)), f"{name}.{key}: password"
        # The App's credentials and API keys come from deploy/.env, never from this file.
        for key in service.get("environment") or {}:
            assert not key.startswith(("GITHUB_", "ANTHROPIC_", "LINEAR_")), f"{name}.{key}"


def test_the_app_reads_deploy_env_and_only_settings_it_knows() -> None:
    for name, service in app_services().items():
        assert service["env_file"] == ".env", name
        assert set(service["environment"]) <= settings_env_names(), name
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in ignored, "deploy/.env holds secrets: git must ignore it"


def test_every_interpolated_variable_is_in_the_env_example() -> None:
    active, commented = env_example()
    assert interpolated() <= set(active) | set(commented)
    required = {m.group(1) for m in re.finditer(r"\$\{(\w+):\?", COMPOSE.read_text())}
    assert required <= set(active), "a required variable is listed uncommented, to be filled in"


def test_the_env_example_holds_placeholders_only() -> None:
    active, commented = env_example()
    # Uncommented lines are the compose-only variables to fill in, empty: a Settings variable
    # present but empty would stop start-up (GITHUB_APP_ID=) or mean "no secret".
    assert all(value == "" for value in active.values()), active
    assert not set(active) & settings_env_names()
    for key, value in commented.items():
        if SECRET_NAME.search(key):
            assert "REPLACE_ME" in value, key
    assert set(active) | set(commented) <= settings_env_names() | interpolated()


def test_the_env_example_values_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    _, commented = env_example()
    values = {k: v for k, v in commented.items() if k in settings_env_names()}
    assert {"GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"} <= set(values)
    settings = settings_from(values, monkeypatch)
    assert settings.missing_github_app() == []
    values["GITHUB_APP_ID"] = ""
    with pytest.raises(ConfigError, match="GITHUB_APP_ID"):
        settings_from(values, monkeypatch)
