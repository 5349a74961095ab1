"""What `backend-review review` says it did (issue 15), through the real entry point: the
header naming what was compared, an empty diff, wrapping to the terminal, the "not reviewed"
list, and `--format sarif=FILE` alone."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import main
from app.review.findings import FindingsReport
from app.review.text_report import NOT_REVIEWED_SHOWN, as_text
from tests.cli.test_review import MIXED, _many_files
from tests.review.test_model_gate import plan, rule


@pytest.fixture(autouse=True)
def no_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "BACKEND_REVIEW_", "AWS_", "CLOUD_ML_")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["review", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("git") is None:
        pytest.fail("git is needed for the branch review tests")
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "dev@example.com")
    _git(root, "config", "user.name", "Dev")
    (root / "a.py").write_text("x = 1\ny = 2\n", encoding="utf-8")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "base")
    _git(root, "checkout", "-qb", "feature")
    monkeypatch.chdir(root)
    return root


# --- what was compared ---------------------------------------------------------------------


def test_the_header_names_the_diff_file_and_its_size(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(MIXED), "--no-llm")
    assert code == 0
    mode, header = out.splitlines()[:2]
    assert mode == "backend-review (rules only)"
    assert header.startswith(f"reviewed {MIXED}: ")
    assert header.endswith(" lines")
    assert " file(s), +" in header


def test_the_header_names_base_merge_base_and_head(
    capsys: pytest.CaptureFixture[str], repo: Path
) -> None:
    (repo / "a.py").write_text("x = 1\ny = 3\nz = 4\n", encoding="utf-8")
    _git(repo, "commit", "-qam", "change")
    head, merge_base = _git(repo, "rev-parse", "HEAD"), _git(repo, "rev-parse", "main")

    _, out, _ = run(capsys, "--no-llm")
    assert out.splitlines()[1] == (
        f"compared main (merge base {merge_base[:10]}) and HEAD ({head[:10]}): "
        "1 file(s), +2 -1 lines"
    )

    # main moves on: its own commit is named apart from the merge base.
    _git(repo, "checkout", "-q", "main")
    (repo / "b.py").write_text("b = 1\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "main moves")
    main_sha = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-q", "feature")
    _, out, _ = run(capsys, "--no-llm", "--base", "main")
    assert out.splitlines()[1].startswith(
        f"compared main at {main_sha[:10]} (merge base {merge_base[:10]}) and HEAD ({head[:10]})"
    )


# --- an empty diff -------------------------------------------------------------------------


def test_an_empty_branch_says_there_was_nothing_to_review(
    capsys: pytest.CaptureFixture[str], repo: Path
) -> None:
    sha = _git(repo, "rev-parse", "HEAD")[:10]
    code, out, err = run(capsys, "--no-llm")
    assert (code, err) == (0, "")
    assert out.rstrip().splitlines()[-1] == (
        f"nothing to review between main (merge base {sha}) and HEAD ({sha})"
    )
    assert "PASS" not in out
    assert "No findings" not in out


@pytest.mark.parametrize("content", ["", "\n\n", "\r\n"])
def test_an_empty_diff_file_or_stdin_says_so_in_every_format(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    content: str,
) -> None:
    empty = tmp_path / "empty.diff"
    empty.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, str(empty))
    assert (code, err) == (0, "")  # no model call either: stderr stays empty
    assert out.endswith(f"nothing to review in {empty}: the diff is empty\n")

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(content.encode())))
    sarif = tmp_path / "r.sarif"
    code, out, err = run(capsys, "-", "--format", f"json,sarif={sarif}")
    assert code == 0
    assert FindingsReport.model_validate_json(out).findings == []  # JSON stays JSON
    assert json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"] == []
    assert err == "backend-review: nothing to review in standard input: the diff is empty\n"


def test_an_empty_diff_makes_no_model_call(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A key and an endpoint nothing listens on: a call would be an error on stderr.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-" + "x" * 40)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    empty = tmp_path / "empty.diff"
    empty.write_text("", encoding="utf-8")
    code, out, err = run(capsys, str(empty))
    assert (code, err) == (0, "")
    assert out.startswith("backend-review (rules only)\n")


# --- "not reviewed" ------------------------------------------------------------------------


def _binary_diff(n: int) -> str:
    return "".join(
        f"diff --git a/img/p{i:02}.png b/img/p{i:02}.png\nnew file mode 100644\n"
        f"index 0000000..1111111\nBinary files /dev/null and b/img/p{i:02}.png differ\n"
        for i in range(n)
    )


def test_not_reviewed_is_a_count_and_the_first_few(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    diff = tmp_path / "many.diff"
    diff.write_text(_binary_diff(40) + _many_files(1), encoding="utf-8")

    _, out, _ = run(capsys, str(diff), "--no-llm")
    lines = out.splitlines()
    start = lines.index("not reviewed: 40 files")
    listed = lines[start + 1 : start + 1 + NOT_REVIEWED_SHOWN]
    assert listed == [f"  img/p{i:02}.png (binary)" for i in range(NOT_REVIEWED_SHOWN)]
    assert lines[start + 1 + NOT_REVIEWED_SHOWN] == (
        f"  … and {40 - NOT_REVIEWED_SHOWN} more (--verbose lists them all)"
    )

    _, out, _ = run(capsys, str(diff), "--no-llm", "--verbose")
    assert all(f"  img/p{i:02}.png (binary)" in out for i in range(40))
    assert "more (--verbose" not in out


def test_one_more_is_listed_not_counted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    diff = tmp_path / "six.diff"
    diff.write_text(_binary_diff(NOT_REVIEWED_SHOWN + 1), encoding="utf-8")
    _, out, _ = run(capsys, str(diff), "--no-llm")
    assert "… and" not in out
    assert out.count(" (binary)") == NOT_REVIEWED_SHOWN + 1


# --- wrapping --------------------------------------------------------------------------------

LONG = (
    "The order is charged before it is stored, so a crash between the two calls leaves a "
    "payment without an order and the retry charges the customer a second time."
)


def test_text_wraps_with_hanging_indents_at_the_given_width() -> None:
    got = plan(rule(title=LONG, evidence=LONG, recommendation=LONG))
    text = as_text(got, mode="rules only", color=False, header="reviewed x.diff", width=60)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 60
    first = next(i for i, line in enumerate(lines) if line.startswith("CRITICAL "))
    block = lines[first : lines.index("", first)]
    assert all(line.startswith(" " * 9) for line in block[1:])  # nothing falls back to column 0
    arrow = next(i for i, line in enumerate(block) if line.lstrip().startswith("→ "))
    assert block[arrow + 1].startswith(" " * 11)  # the recommendation hangs under its text
    assert any(line.endswith("[idempotency]") for line in block)


def test_colour_does_not_count_towards_the_width() -> None:
    got = plan(rule(title=LONG))
    text = as_text(got, mode="rules only", color=True, width=60)
    plain = [line.replace("\x1b[0m", "") for line in text.splitlines()]
    plain = [line.split("m", 1)[-1] if line.startswith("\x1b[") else line for line in plain]
    assert max(len(line) for line in plain) <= 60
    assert "\x1b[2m[idempotency]\x1b[0m" in text  # the rule id is still dimmed


def test_a_long_mode_line_wraps_too() -> None:
    mode = "rules only: the model API refused the request: authentication failed (401)"
    text = as_text(plan(), mode=mode, color=False, width=40)
    first, second = text.splitlines()[:2]
    assert first.startswith("backend-review (rules only:")
    assert second.startswith("  ")
    assert " ".join(text.split()).startswith(f"backend-review ({mode})")


def test_a_long_path_is_not_broken() -> None:
    path = "app/" + "very_long_directory_name/" * 4 + "handler.py"
    got = plan(rule(title="x", where={"path": "app/api.py", "lines": "11"}))
    text = as_text(got, mode="m", color=False, header=f"reviewed {path}", width=40)
    assert path in text


def test_without_a_width_nothing_is_wrapped() -> None:
    got = plan(rule(title=LONG))
    text = as_text(got, mode="rules only", color=False, width=None)
    assert any(LONG in line for line in text.splitlines())


def test_the_terminal_width_is_used_only_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    long_title_diff = tmp_path / "big.diff"
    long_title_diff.write_text(_many_files(20), encoding="utf-8")

    _, piped, _ = run(capsys, str(long_title_diff), "--no-llm")
    assert max(len(line) for line in piped.splitlines()) > 50  # a pipe: never wrapped

    monkeypatch.setenv("COLUMNS", "50")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    _, shown, _ = run(capsys, str(long_title_diff), "--no-llm")
    too_long = [line for line in shown.splitlines() if len(line) > 50]
    assert too_long == [f"  {long_title_diff}:"]  # a path is never broken, and stands alone
    assert shown.split() == piped.split()  # the same words, only the line breaks differ


# --- sarif=FILE alone --------------------------------------------------------------------------


def test_a_report_only_to_files_still_prints_the_verdict_and_where_it_went(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    diff = tmp_path / "big.diff"
    diff.write_text(_many_files(20), encoding="utf-8")
    sarif, findings = tmp_path / "r.sarif", tmp_path / "f.json"

    code, out, err = run(capsys, str(diff), "--no-llm", "--format", f"sarif={sarif}")
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"reviewed {diff}: 20 file(s), +20 -20 lines",
        f"wrote sarif: {sarif}",
        "FAIL: 1 blocking finding (fail_on: major)",
    ]
    assert json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]

    code, out, _ = run(capsys, str(MIXED), "--no-llm", "--format", f"sarif={sarif},json={findings}")
    assert code == 0
    assert out.splitlines()[1:] == [
        f"wrote sarif: {sarif}",
        f"wrote json: {findings}",
        out.splitlines()[-1],
    ]
    assert out.splitlines()[-1].startswith("PASS: ")


def test_an_empty_diff_only_to_files_says_so_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty, sarif = tmp_path / "empty.diff", tmp_path / "r.sarif"
    empty.write_text("", encoding="utf-8")
    code, out, err = run(capsys, str(empty), "--format", f"sarif={sarif}")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"reviewed {empty}: 0 file(s), +0 -0 lines",
        f"wrote sarif: {sarif}",
        f"nothing to review in {empty}: the diff is empty",
    ]
