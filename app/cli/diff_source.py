"""Where `backend-review review` gets its diff, and how it says what it compared.

A DIFF_FILE, standard input, or the current branch against its merge base with a ref (through
`git` subprocesses, never a shell). `DiffSource` keeps what the report's header names: the
file, or the ref, its commit, the merge base and HEAD.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from app.cli.files import Revisions
from app.review.diff_model import Diff

DEFAULT_BRANCHES = ("main", "master", "origin/main", "origin/master")


class InputError(Exception):
    """Bad arguments or unreadable input: reported on one line, exit code 2."""


@dataclass(frozen=True)
class DiffSource:
    """What was read: a file (`name`), stdin (`name` "-"), or a branch (`base` set)."""

    name: str | None = None
    base: str | None = None  # the ref given or found (e.g. origin/main)
    base_sha: str | None = None
    merge_base: str | None = None
    head: str | None = None

    def between(self) -> str:
        """The two sides, for "nothing to review between ..." and the header."""
        if self.base is None:
            return "standard input" if self.name == "-" else str(self.name)
        at = "" if self.base_sha == self.merge_base else f" at {_short(self.base_sha)}"
        return (
            f"{self.base}{at} (merge base {_short(self.merge_base)}) and HEAD ({_short(self.head)})"
        )

    def header(self, diff: Diff) -> str:
        """One line: what was compared, and how much changed."""
        files = len(diff.files)
        added = sum(f.added for f in diff.files)
        removed = sum(f.removed for f in diff.files)
        size = f"{files:,} file(s), +{added:,} -{removed:,} lines"
        if self.base is None:
            return f"reviewed {self.between()}: {size}"
        return f"compared {self.between()}: {size}"

    def nothing_to_review(self) -> str:
        if self.base is None:
            return f"nothing to review in {self.between()}: the diff is empty"
        return f"nothing to review between {self.between()}"


def _short(sha: str | None) -> str:
    return (sha or "?")[:10]


def read_diff(diff_file: str | None, base: str | None) -> tuple[str, Revisions | None, DiffSource]:
    """The diff, the commits it was made from (None for a DIFF_FILE: the working tree), and
    what it was read from."""
    if diff_file == "-":
        return decode(sys.stdin.buffer.read()), None, DiffSource(name="-")
    if diff_file is not None:
        try:
            return decode(Path(diff_file).read_bytes()), None, DiffSource(name=diff_file)
        except OSError as exc:
            raise InputError(f"cannot read {diff_file}: {exc.strerror}") from exc
    text, revisions, ref, ref_sha = _branch(base)
    source = DiffSource(base=ref, base_sha=ref_sha, merge_base=revisions.base, head=revisions.head)
    return text, revisions, source


def branch_diff(base: str | None) -> tuple[str, Revisions]:
    """The current branch's committed changes against its merge base with `base`, and the
    two commits (merge base, HEAD's SHA) the whole files are read at.

    Without `base`: the default branch (origin/HEAD, else main, master, origin/main,
    origin/master).
    """
    text, revisions, _, _ = _branch(base)
    return text, revisions


def _branch(base: str | None) -> tuple[str, Revisions, str, str]:
    if git_toplevel() is None:
        raise InputError("not inside a git repository: pass a DIFF_FILE, or - to read stdin")
    ref = base or _default_branch()
    merge_base = _git("merge-base", ref, "HEAD").strip()
    ref_sha = _git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()
    head = _git("rev-parse", "--verify", "HEAD^{commit}").strip()
    text = _git(
        "-c",
        "core.quotepath=on",
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--no-relative",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "-M",
        merge_base,
        head,
    )
    return text, Revisions(base=merge_base, head=head), ref, ref_sha


def _default_branch() -> str:
    try:
        head = _git("symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD").strip()
        if head:
            return head
    except InputError:
        pass
    for ref in DEFAULT_BRANCHES:
        try:
            _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except InputError:
            continue
        return ref
    raise InputError("cannot find the default branch: pass --base REF")


def git_toplevel() -> Path | None:
    try:
        return Path(_git("rev-parse", "--show-toplevel").strip())
    except InputError:
        return None


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _git(*args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise InputError("git is not installed: pass a DIFF_FILE, or - to read stdin")
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [git, *args], capture_output=True, check=False
    )
    if result.returncode != 0:
        detail = decode(result.stderr).strip().splitlines()
        raise InputError(
            f"git {args[0] if args[0] != '-c' else args[2]}: "
            + (detail[-1] if detail else f"exit {result.returncode}")
        )
    return decode(result.stdout)
