"""Precision and recall of the rules on real public commits, per family.

    .venv/bin/python -m bench.real_commits --mirrors /work/.mirror
    .venv/bin/python -m bench.real_commits --mirrors DIR --family authorization --no-context
    .venv/bin/python -m bench.real_commits --mirrors DIR --commit ctfd-unlock-hints -v

The commits and their expected findings are in `bench/real_commits.toml` (facts only: repository,
sha, path, line, evidence). For each commit this regenerates what a pull request would show —
`git diff -M parent commit` and each changed file's text at both commits via `git show` — from
a bare mirror of the repository (`DIR/<owner>+<name>/repo`, as the search tool's `fetch` lays it
out, or `DIR/<owner>+<name>.git`), runs `run_rules` on it and scores the findings with
`bench.real_labels`. A mirror that is missing, or lacks the commit, is reported and skipped.
Exit status 1 when a commit was skipped, so a partial run is never mistaken for a whole one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from app.review.diff import Diff, parse_diff
from app.review.file_context import EMPTY, FileContext, FileText
from app.review.findings import Finding
from app.review.rules import RuleContext, run_rules
from bench.real_labels import (
    FAMILIES,
    LABELS,
    Commit,
    Tally,
    family_of,
    load_labels,
    overall,
    score_commit,
)

MAX_FILE_BYTES = 1_000_000  # a file larger than this is left out of the context, with a note
PRECISION_TARGET = 0.90
RECALL_TARGET = 0.80
AUTHZ_RECALL_TARGET = 0.70


class MirrorError(RuntimeError):
    """The mirror is missing, or git could not give what the bench needs."""


def git_dir(mirrors: Path, repo: str) -> Path:
    """The bare git directory of `repo` ("owner/name") under `mirrors`."""
    stem = repo.replace("/", "+")
    for base in (mirrors / stem / "repo", mirrors / f"{stem}.git", mirrors / stem):
        # A bare repository, or a work tree whose git directory is `.git` inside it.
        for candidate in (base, base / ".git"):
            if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
                return candidate
    raise MirrorError(f"no mirror of {repo} under {mirrors} (expected {mirrors / stem}/repo)")


def _git(gd: Path, *args: str, check: bool = True) -> bytes:
    proc = subprocess.run(
        ["git", f"--git-dir={gd}", *args], capture_output=True, check=False, timeout=120
    )
    if check and proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise MirrorError(f"git {' '.join(args[:2])}: {msg[-1] if msg else proc.returncode}")
    return proc.stdout


def parent_of(gd: Path, sha: str) -> str:
    """The commit's first parent: the base a pull request of this commit would have."""
    try:
        return _git(gd, "rev-parse", "--verify", f"{sha}^1^{{commit}}").decode().strip()
    except MirrorError as e:
        raise MirrorError(f"commit {sha[:12]} or its parent is not in the mirror ({e})") from e


def commit_diff(gd: Path, base: str, head: str) -> str:
    """The unified diff of `base..head` as a PR shows it: renames detected, 3 lines of context."""
    out = _git(
        gd,
        "-c",
        "core.quotePath=true",
        "diff",
        "-M",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        base,
        head,
    )
    return out.decode("utf-8", errors="replace")


def _blob(gd: Path, rev: str, path: str) -> tuple[str | None, str | None]:
    """The text of `rev:path`, or (None, why not)."""
    size = _git(gd, "cat-file", "-s", f"{rev}:{path}", check=False).strip()
    if not size:
        return None, f"{path}: not at {rev[:12]}"
    if int(size) > MAX_FILE_BYTES:
        return None, f"{path}: {int(size)} bytes at {rev[:12]}, over {MAX_FILE_BYTES}"
    data = _git(gd, "show", f"{rev}:{path}")
    if b"\0" in data[:8000]:
        return None, f"{path}: binary"
    return data.decode("utf-8", errors="replace"), None


def file_context(gd: Path, base: str, head: str, diff: Diff) -> FileContext:
    """Each changed file's whole text at the head and at the base (old path for a rename)."""
    texts, notes = [], []
    for f in diff.files:
        if f.is_binary:
            continue
        head_text = base_text = None
        if f.status != "removed":
            head_text, note = _blob(gd, head, f.path)
            notes += [note] if note else []
        if f.status != "added":
            base_text, note = _blob(gd, base, f.old_path or f.path)
            notes += [note] if note else []
        if head_text is not None or base_text is not None:
            texts.append(FileText(f.path, head_text, base_text))
    return FileContext.of(texts, notes)


@dataclass(frozen=True)
class Run:
    commit: Commit
    diff: Diff
    findings: list[Finding]
    notes: tuple[str, ...]


def run_commit(mirrors: Path, commit: Commit, *, with_context: bool) -> Run:
    gd = git_dir(mirrors, commit.repo)
    base = parent_of(gd, commit.sha)
    head = _git(gd, "rev-parse", "--verify", f"{commit.sha}^{{commit}}").decode().strip()
    diff = parse_diff(commit_diff(gd, base, head))
    context = file_context(gd, base, head, diff) if with_context else EMPTY
    findings = run_rules(diff, RuleContext(max_files=commit.max_files), files=context)
    return Run(commit, diff, findings, context.notes)


def _table(tallies: dict[str, Tally]) -> list[str]:
    out = [f"{'family':15} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>10} {'recall':>7}"]
    for family, t in [*tallies.items(), ("(all families)", overall(tallies))]:
        out.append(f"{family:15} {t.tp:4} {t.fp:4} {t.fn:4} {t.precision:10.2f} {t.recall:7.2f}")
    return out


def _targets(tallies: dict[str, Tally], dirty_clean: list[str]) -> list[str]:
    total = overall(tallies)
    gaps = []
    if total.precision < PRECISION_TARGET:
        gaps.append(f"precision {total.precision:.2f} < {PRECISION_TARGET}")
    if total.recall < RECALL_TARGET:
        gaps.append(f"recall {total.recall:.2f} < {RECALL_TARGET}")
    authz = tallies.get("authorization")
    if authz is not None and authz.recall < AUTHZ_RECALL_TARGET:
        gaps.append(f"authorization recall {authz.recall:.2f} < {AUTHZ_RECALL_TARGET}")
    if dirty_clean:
        gaps.append(f"{len(dirty_clean)} clean commit(s) drew findings: {', '.join(dirty_clean)}")
    return gaps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, required=True, help="directory of bare mirrors")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--family", choices=FAMILIES, help="score only this family")
    parser.add_argument("--commit", help="run only the commit of this name (or sha prefix)")
    parser.add_argument("--no-context", action="store_true", help="rules read the hunks only")
    parser.add_argument(
        "--evidence-only",
        action="store_true",
        help="drop findings of type 'question' before scoring (default: every finding counts)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list every finding")
    args = parser.parse_args(argv)

    commits = load_labels(args.labels)
    if args.commit:
        commits = [c for c in commits if args.commit in (c.name,) or c.sha.startswith(args.commit)]
        if not commits:
            print(f"no labelled commit named {args.commit!r}", file=sys.stderr)
            return 2
    families = (args.family,) if args.family else FAMILIES
    tallies: dict[str, Tally] = {f: Tally() for f in families}
    skipped: list[str] = []
    dirty_clean: list[str] = []
    unscored: Counter[str] = Counter()
    for commit in commits:
        try:
            run = run_commit(args.mirrors, commit, with_context=not args.no_context)
        except MirrorError as e:
            skipped.append(f"{commit.name} ({commit.repo} {commit.sha[:12]}): {e}")
            continue
        findings = run.findings
        if args.evidence_only:
            findings = [f for f in findings if f.type != "question"]
        scored = [f for f in findings if family_of(f.rule) in families]
        unscored.update(f.rule for f in findings if family_of(f.rule) is None)
        if commit.clean and scored:
            dirty_clean.append(commit.name)
        score_commit(commit, findings, run.diff, tallies, families)
        if args.verbose:
            print(f"== {commit.name} {commit.repo}@{commit.sha[:12]} ({len(run.diff.files)} files)")
            for note in run.notes:
                print(f"   note: {note}")
            for f in findings:
                print(
                    f"   {f.rule} {f.where.path}:{f.where.lines or '-'} {f.where.side}"
                    f" [{f.severity.value}/{f.type}] {f.title}"
                )

    ran = len(commits) - len(skipped)
    clean = sum(1 for c in commits if c.clean)
    mode = "hunks only" if args.no_context else "with file context"
    print(f"{ran} of {len(commits)} labelled commits run ({clean} labelled clean), {mode}\n")
    print("\n".join(_table(tallies)))
    misses = [m for t in tallies.values() for m in t.misses]
    for kind in ("FP", "FN"):
        listed = [m for m in misses if m.kind == kind]
        if listed:
            print(f"\n{kind} ({len(listed)}):")
            for m in listed:
                print(f"  {m.family:13} {m.commit} {m.repo}@{m.sha[:10]} {m.rule} {m.where}")
                print(f"      {m.note[:160]}")
    if unscored:
        print(
            "\nnot scored (outside the five families): "
            + ", ".join(f"{rule} x{n}" for rule, n in sorted(unscored.items()))
        )
    gaps = _targets(tallies, dirty_clean)
    if gaps:
        print("\nbelow target: " + "; ".join(gaps))
    if skipped:
        print(f"\nSKIPPED {len(skipped)} commit(s) — fetch their mirrors and rerun:")
        for line in skipped:
            print(f"  {line}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
