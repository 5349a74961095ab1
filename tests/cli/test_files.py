"""The CLI's whole files: from git objects for a branch, the working tree for a DIFF_FILE."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.cli.diff_source import branch_diff
from app.cli.files import MAX_READ_BYTES, Revisions, git_objects, read_local_files
from app.review.diff import parse_diff
from app.review.file_gather import ContextLimits

ROUTE_BASE = "from app.auth import admin\n\n\n@admin\ndef listing():\n    return []\n"
ROUTE_HEAD = ROUTE_BASE + "\n\n@admin\ndef create():\n    return 1\n"
AUTH = "def admin(f):\n    return f\n"


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)
    return done.stdout.decode()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("git") is None:
        pytest.fail("git is needed for these tests")
    root = tmp_path / "repo"
    (root / "app" / "api").mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "dev@example.com")
    _git(root, "config", "user.name", "Dev")
    (root / "app" / "api" / "refunds.py").write_text(ROUTE_BASE, encoding="utf-8")
    (root / "app" / "auth.py").write_text(AUTH, encoding="utf-8")
    (root / "logo.bin").write_bytes(b"\x89PNG\x00\x00")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "base")
    _git(root, "checkout", "-qb", "feature")
    (root / "app" / "api" / "refunds.py").write_text(ROUTE_HEAD, encoding="utf-8")
    _git(root, "commit", "-qam", "add create")
    monkeypatch.chdir(root)
    return root


def test_a_branch_review_reads_head_and_base_from_git_and_the_guard_module(repo: Path) -> None:
    text, revisions = branch_diff("main")
    # the working tree changes after the commit: git objects are read, not the tree
    (repo / "app" / "api" / "refunds.py").write_text("edited since\n", encoding="utf-8")
    context = read_local_files(
        parse_diff(text), root=repo, revisions=revisions, ignore=(), limits=ContextLimits()
    )
    assert context.head("app/api/refunds.py") == ROUTE_HEAD
    assert context.base("app/api/refunds.py") == ROUTE_BASE
    assert context.head("app/auth.py") == AUTH  # one import away
    assert context.notes == ()
    assert revisions.head == _git(repo, "rev-parse", "HEAD").strip()


def test_a_diff_file_review_reads_the_working_tree_and_checks_it_against_the_diff(
    repo: Path,
) -> None:
    text, _ = branch_diff("main")
    diff = parse_diff(text)
    context = read_local_files(diff, root=repo, revisions=None, ignore=(), limits=ContextLimits())
    assert context.head("app/api/refunds.py") == ROUTE_HEAD
    # No commits to read it from: the base is rebuilt from the working tree and the hunks.
    assert context.base("app/api/refunds.py") == ROUTE_BASE
    (repo / "app" / "api" / "refunds.py").write_text("edited since\n", encoding="utf-8")
    edited = read_local_files(diff, root=repo, revisions=None, ignore=(), limits=ContextLimits())
    assert edited.get("app/api/refunds.py") is None
    assert "does not match the diff" in edited.notes[0]


def test_paths_outside_the_repository_are_never_read(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.py").write_text("KEY = 1\n", encoding="utf-8")
    diff = parse_diff(
        "diff --git a/../secret.py b/../secret.py\n--- a/../secret.py\n+++ b/../secret.py\n"
        "@@ -1 +1 @@\n-KEY = 0\n+KEY = 1\n"
    )
    context = read_local_files(diff, root=repo, revisions=None, ignore=(), limits=ContextLimits())
    assert context.head("../secret.py") is None


def test_git_objects_missing_binary_trees_and_odd_names(repo: Path) -> None:
    got = git_objects(
        ["HEAD:app/auth.py", "HEAD:nope.py", "HEAD:logo.bin", "HEAD:app", "HEAD:a\nb"], cwd=repo
    )
    assert got is not None
    auth = got["HEAD:app/auth.py"]
    assert auth is not None
    assert auth.text == AUTH
    assert got["HEAD:nope.py"] is None
    logo = got["HEAD:logo.bin"]
    assert logo is not None
    assert logo.text is None
    assert got["HEAD:app"] is None  # a tree
    assert got["HEAD:a\nb"] is None  # cannot be asked on one line


def test_a_huge_file_is_read_in_part(repo: Path) -> None:
    big = "x = 1\n" * (MAX_READ_BYTES // 6 + 100)
    (repo / "big.py").write_text(big, encoding="utf-8")
    _git(repo, "add", "big.py")
    _git(repo, "commit", "-qm", "big")
    got = git_objects(["HEAD:big.py"], cwd=repo)
    assert got is not None
    fetched = got["HEAD:big.py"]
    assert fetched is not None
    assert fetched.truncated
    assert fetched.byte_size == len(big)
    assert fetched.text is not None
    assert len(fetched.text) == MAX_READ_BYTES


def test_no_git_means_a_note_not_an_error(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, revisions = branch_diff("main")
    monkeypatch.setenv("PATH", "/nonexistent")
    context = read_local_files(
        parse_diff(text), root=repo, revisions=revisions, ignore=(), limits=ContextLimits()
    )
    assert context.get("app/api/refunds.py") is None
    assert context.notes[0] == "whole files could not be read with git; hunks only"
    assert isinstance(revisions, Revisions)
