"""A model the capability table lacks is refused: by `serve` and `worker` at start-up (one line,
exit 2, before anything starts), by `doctor`, and by `config check` for a persona's `model:`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import main

_ENV = (
    "DATABASE_URL", "GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH",
    "GITHUB_WEBHOOK_SECRET", "ANTHROPIC_API_KEY", "LINEAR_API_KEY", "BACKEND_REVIEW_MODEL",
    "BACKEND_REVIEW_LLM_PROVIDER", "AWS_REGION", "CLOUD_ML_REGION",
)  # fmt: skip
REFUSED = (
    "backend-review: configuration error: BACKEND_REVIEW_MODEL: model 'claude-foo' is not a "
    "model backend-review knows on anthropic (known: claude-opus-5-5, "
)


pytestmark = pytest.mark.usefixtures("isolated_env")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_start_up_stops_on_an_unknown_model_with_one_line(command: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _ENV}
    env |= {
        "BACKEND_REVIEW_MODEL": "claude-foo",
        "BACKEND_REVIEW_DATA_DIR": str(tmp_path / "data"),
        "BACKEND_REVIEW_PORT": "1",  # were it to start, it could not listen
    }
    # A process of its own: were the refusal missing, the command would run until the timeout.
    done = subprocess.run(
        [sys.executable, "-m", "app", command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(REFUSED)
    assert line.endswith('; see docs/llm.md, "Models"')
    assert not (tmp_path / "data" / "backend-review.db").exists()  # nothing was started


def test_start_up_names_the_providers_own_id(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.errors import ConfigError
    from app.jobs.llm_config import require_known_model
    from app.settings import load_settings

    monkeypatch.setenv("BACKEND_REVIEW_LLM_PROVIDER", "bedrock")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with pytest.raises(ConfigError) as caught:
        require_known_model(load_settings())  # the default, claude-sonnet-4-6, is not Bedrock's
    assert caught.value.setting == "BACKEND_REVIEW_MODEL"
    assert "ids: anthropic.claude-sonnet-4-6" in caught.value.problem

    monkeypatch.setenv("BACKEND_REVIEW_MODEL", "eu.anthropic.claude-sonnet-4-6")
    require_known_model(load_settings())


def test_doctor_fails_an_unknown_model(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKEND_REVIEW_MODEL", "claude-foo")

    code, out, err = run(capsys, "doctor")

    assert (code, err) == (1, "")
    [line] = [x for x in out.splitlines() if x.startswith("FAIL  model table: ")]
    assert "model 'claude-foo' is not a model backend-review knows on anthropic" in line
    assert line.endswith('set BACKEND_REVIEW_MODEL to one of them (docs/llm.md, "Models")')


def test_doctor_says_what_the_model_is_sent(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKEND_REVIEW_MODEL", "claude-opus-5-5")
    monkeypatch.setenv("BACKEND_REVIEW_LLM_PRICE_PER_MTOK", "1,2,0.1,1.25")

    out = run(capsys, "doctor")[1]

    assert (
        "OK    model table: Claude Opus 5.5: tool choice auto, thinking adaptive, "
        "max_tokens 12192, cost at custom prices"
    ) in out.splitlines()


def _repo(tmp_path: Path, persona_model: str | None) -> Path:
    """A checkout whose config picks its own persona, which names `persona_model`."""
    config = tmp_path / "repo" / ".github" / "backend-review.yml"
    personas = tmp_path / "repo" / ".github" / "backend-review" / "personas"
    personas.mkdir(parents=True)
    config.write_text("persona: payments\n", encoding="utf-8")
    front = f"---\nmodel: {persona_model}\n---\n" if persona_model else ""
    (personas / "payments.md").write_text(
        f"{front}# Payments reviewer\n\nYou review payment code.\n", encoding="utf-8"
    )
    return config


def test_config_check_refuses_a_persona_naming_an_unknown_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = _repo(tmp_path, "claude-foo")

    code, out, err = run(capsys, "config", "check", str(config))

    assert (code, err) == (1, "")
    [line] = out.splitlines()
    assert line.startswith(
        f"{config}: persona .github/backend-review/personas/payments.md: model 'claude-foo' is "
        "not a model backend-review knows on anthropic"
    )
    assert line.endswith("; its review would run without the model")


@pytest.mark.parametrize("model", ["claude-opus-4-6", None])
def test_config_check_accepts_a_known_model_or_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: str | None
) -> None:
    code, out, _ = run(capsys, "config", "check", str(_repo(tmp_path, model)))

    assert code == 0
    assert out.splitlines()[0] == "ok"
