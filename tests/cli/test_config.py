"""The repo config through the entry point: `config check` in one pass, duplicate keys, globs,
`schema --config` (and the committed copy), and the sample in docs/cli.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from app.cli.main import main
from app.review import config_yaml
from app.review.repo_config import RepoConfigError, config_schema, parse_repo_config

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "cli.md"
SCHEMA_FILE = ROOT / "docs" / "backend-review.schema.json"


@pytest.fixture(params=["libyaml", "pure"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both of the YAML parsers a machine may have: libyaml where PyYAML was built with it,
    else PyYAML's own; every message must be as useful from either."""
    if request.param == "pure":
        monkeypatch.setattr(config_yaml, "_Loader", config_yaml._PureLoader)
    return str(request.param)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)


def _fenced_after(text: str, marker: str) -> list[str]:
    """The bodies of the two fenced blocks that follow `marker`."""
    rest = text[text.index(marker) :]
    return re.findall(r"```[a-z]*\n(.*?)```", rest, flags=re.DOTALL)[:2]


def test_the_sample_in_the_docs_is_what_config_check_prints(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config, transcript = _fenced_after(DOCS.read_text(encoding="utf-8"), "config-check-sample")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "backend-review.yml").write_text(config, encoding="utf-8")
    command, *expected = transcript.splitlines()

    code, out, err = run(capsys, *command.removeprefix("$ backend-review ").split())

    assert (code, err) == (1, "")
    assert out.splitlines() == expected


def test_every_problem_in_one_pass(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(
        "max_files: lots\n"
        "ignore: ['docs/**', '!', '']\n"
        "path_instructions:\n  '!': x\n  '!docs/**': y\n"
        "rules:\n  tests-missing: 'no'\n  no-such-rule: false\n  7: false\n"
        "linear:\n  enabled: true\n  enabled: false\n",
        encoding="utf-8",
    )

    code, out, _ = run(capsys, "config", "check", str(path))

    assert code == 1
    problems = [line.removeprefix(f"{path}: ") for line in out.splitlines()]
    assert problems[0] == "max_files: expected a whole number"  # in the order of the file
    assert problems[-1] == "line 12: enabled: duplicate key (first on line 11)"
    assert "max_files: expected a whole number" in problems
    assert any(p.startswith("ignore[1]: not a usable glob: ") for p in problems)
    assert "ignore[2]: not a usable glob: an empty glob matches nothing" in problems
    assert any(p.startswith("path_instructions.!: the key: a '!' glob matches") for p in problems)
    assert any(p.startswith("path_instructions.!docs/**: the key: a '!' glob") for p in problems)
    assert "rules.tests-missing: expected true or false" in problems
    assert "rules.no-such-rule: unknown rule" in problems
    assert "rules.7: unknown rule" in problems
    assert len(problems) == 10, problems


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: 1\nb: 2\na: 3\n", "line 3: a: duplicate key (first on line 1)"),
        ("linear: {enabled: true, enabled: false}\n", "line 1: enabled: duplicate key"),
        ("rules:\n  tests-missing: false\n  tests-missing: true\n", "line 3: tests-missing"),
        ("'fail_on': major\nfail_on: minor\n", "line 2: fail_on: duplicate key"),
    ],
)
def test_a_duplicated_key_is_an_error_with_its_line(text: str, problem: str, parser: str) -> None:
    with pytest.raises(RepoConfigError) as err:
        parse_repo_config(text)
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


def test_an_unquoted_glob_is_named_as_the_likely_cause(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, parser: str
) -> None:
    path = tmp_path / "c.yml"
    path.write_text("ignore:\n  - *.py\n", encoding="utf-8")
    code, out, _ = run(capsys, "config", "check", str(path))
    assert code == 1
    assert out.rstrip().endswith("(a value starting with * or & must be quoted, as in '*.py')")


def test_a_yaml_merge_key_is_not_a_duplicate() -> None:
    text = "base: &b {enabled: false}\n"
    with pytest.raises(RepoConfigError) as err:  # `base` is unknown; the merge is not a duplicate
        parse_repo_config(text + "linear:\n  <<: *b\n  require_issue: true\n")
    assert err.value.problems == ["base: unknown key"]


def test_review_stops_on_every_config_problem_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text("fail_on: x\nrules:\n  nope: false\nfail_on: y\n", encoding="utf-8")
    diff = tmp_path / "d.diff"
    diff.write_text("", encoding="utf-8")

    code, out, err = run(capsys, "review", str(diff), "--config", str(config), "--no-llm")

    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "duplicate key" in err
    assert "fail_on: expected one of" in err
    assert "rules.nope" in err


def test_schema_config_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema", "--config")
    assert code == 0
    assert json.loads(out) == config_schema()
    assert out == SCHEMA_FILE.read_text(encoding="utf-8"), (
        "docs/backend-review.schema.json is stale: backend-review schema --config > it"
    )


def test_schema_keeps_printing_the_findings_schema(capsys: pytest.CaptureFixture[str]) -> None:
    _, findings, _ = run(capsys, "schema")
    assert "findings" in json.loads(findings)["properties"]
    code, _, err = run(capsys, "schema", "--config", "--summary")
    assert code == 2
    assert "not allowed with" in err


def _docs_example() -> str:
    text = DOCS.read_text(encoding="utf-8")
    return next(b for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL) if "max_files" in b)


def test_the_schema_accepts_the_documented_example() -> None:
    example = _docs_example()
    parse_repo_config(example)  # valid for the loader ...
    jsonschema.Draft202012Validator(config_schema()).validate(yaml.safe_load(example))  # ... too


@pytest.mark.parametrize(
    "data",
    [
        {"max_file": 3},
        {"max_files": True},
        {"max_files": 0},
        {"fail_on": "blocker"},
        {"rules": {"no-such-rule": False}},
        {"rules": {"tests-missing": "no"}},
        {"linear": {"requre_issue": True}},
        {"model": {"block_confidence": 2}},
        {"ignore": "docs/**"},
    ],
)
def test_what_the_schema_rejects_the_loader_rejects(data: dict[str, object]) -> None:
    validator = jsonschema.Draft202012Validator(config_schema())
    assert not validator.is_valid(data)
    with pytest.raises(RepoConfigError):
        parse_repo_config(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("fail_on: major\n---\nfail_on: minor\n", "line 2, column 1: "),  # two documents
        ("ignore:\n\t- x\n", "line 2, column 1: "),  # a tab for indentation
        ("persona: 'open\n", "line 2, column 1: "),
        ("? [a, b]\n: c\n", "line 1, column 3: found unhashable key"),
        ("*alias\n", "line 1, column 1: "),  # an alias with no anchor
        ("ignore: [*.py]\n", "line 1, column 11: "),  # an unquoted "*" is an alias in YAML
        ("ignore:\n  - *.py\n", "line 2, column 6: "),
        ("ignore:\n\t- x\n", "line 2, column 1: found a tab that cannot start any token"),
        ("persona: *nope\n", "line 1, column 10: found undefined alias 'nope'"),
        ("persona: a\x1bb\n", "line 1, column 11: U+001B is not allowed in YAML"),
        ("max_files: 3\npersona: \x00\n", "line 2, column 10: U+0000 is not allowed"),
    ],
)
def test_malformed_yaml_is_one_line_each_with_its_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, problem: str, parser: str
) -> None:
    path = tmp_path / "c.yml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "config", "check", str(path))
    assert (code, err) == (1, "")
    assert out.startswith(f"{path}: {problem}")
    assert "Traceback" not in out


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "ignore:\n" + "".join(f"  - 'vendor{i}/**/*.py[co]'\n" for i in range(2_200)),
            "ignore: at most 500 entries (this has 2200)",
        ),
        (
            "ignore:\n  - '" + "?" * 8_188 + "'\n",
            "ignore[0]: at most 1000 characters (this has 8188)",
        ),
    ],
)
def test_globs_too_large_to_compile_are_problems_of_their_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, problem: str
) -> None:
    # Both printed "Error: failed to compile Set" (RE2's), naming no key, and exited 2.
    path = tmp_path / "c.yml"
    path.write_text(text, encoding="utf-8")

    code, out, err = run(capsys, "config", "check", str(path))

    assert (code, out, err) == (1, f"{path}: {problem}\n", "")
