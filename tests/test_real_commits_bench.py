"""The real-commit bench's scoring, on a tiny git repository the test builds (CI has no mirrors)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.review.diff import parse_diff
from app.review.findings import Finding, Source, Where
from bench import real_commits
from bench.real_labels import Tally, family_of, parse_labels, score_commit

_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, env=_ENV, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def _commit(work: Path, files: dict[str, str], message: str) -> str:
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", message)
    return _git(work, "rev-parse", "HEAD")


@pytest.fixture
def mirror(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A bare mirror laid out as `fetch` does: DIR/acme+shop/repo."""
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    shas = {"root": _commit(work, {"app/orders.py": "def list_orders():\n    return []\n"}, "root")}
    shas["index"] = _commit(
        work,
        {
            "migrations/0002_orders_index.sql": (
                "-- two hazards a few lines apart\n"
                "DROP INDEX orders_old_idx;\n"
                "\n"
                "CREATE INDEX orders_created_idx ON orders USING btree (created_at);\n"
            )
        },
        "index",
    )
    shas["clean"] = _commit(
        work, {"app/orders.py": "def list_orders():\n    return list(range(3))\n"}, "clean"
    )
    mirrors = tmp_path / "mirrors"
    (mirrors / "acme+shop").mkdir(parents=True)
    _git(tmp_path, "clone", "-q", "--bare", str(work), str(mirrors / "acme+shop" / "repo"))
    return mirrors, shas


def _labels(shas: dict[str, str], *, extra: str = "") -> str:
    return f"""
[[commit]]
name = "index"
repo = "acme/shop"
sha = "{shas["index"]}"
lang = "sql"
framework = "postgresql"
clean = false
[[commit.expect]]
family = "migration"
rules = ["migration-index-not-concurrent"]
path = "migrations/0002_orders_index.sql"
line = 2
evidence = "DROP INDEX without CONCURRENTLY"
[[commit.expect]]
family = "migration"
rules = ["migration-index-not-concurrent"]
path = "migrations/0002_orders_index.sql"
line = 4
evidence = "CREATE INDEX without CONCURRENTLY on an existing table"

[[commit]]
name = "clean"
repo = "acme/shop"
sha = "{shas["clean"]}"
lang = "python"
framework = "none"
clean = true
{extra}
"""


def test_bench_scores_a_commit_regenerated_from_a_mirror(
    mirror: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mirrors, shas = mirror
    labels = tmp_path / "labels.toml"
    labels.write_text(_labels(shas))
    commit = parse_labels(labels.read_text())[0]

    run = real_commits.run_commit(mirrors, commit, with_context=True)
    assert [f.path for f in run.diff.files] == ["migrations/0002_orders_index.sql"]
    tallies: dict[str, Tally] = {}
    score_commit(commit, run.findings, run.diff, tallies)
    found = {f.where.lines for f in run.findings if f.rule == "migration-index-not-concurrent"}
    # The CREATE INDEX finding matches the label on its own line, not the DROP INDEX label two
    # lines up: whichever of the two the rule misses is the false negative.
    assert "4" in found  # CREATE INDEX without CONCURRENTLY on an existing table
    migration = tallies["migration"]
    assert migration.tp == len(found)
    assert migration.fp == 0
    assert migration.fn == 2 - len(found)
    if found == {"4"}:  # the DROP INDEX is not read (yet): it is the false negative
        assert [m.where for m in migration.misses] == ["migrations/0002_orders_index.sql:2"]

    assert real_commits.main(["--mirrors", str(mirrors), "--labels", str(labels)]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 labelled commits run (1 labelled clean)" in out
    assert "migration" in out
    assert "SKIPPED" not in out


def test_context_carries_head_and_base_of_each_changed_file(
    mirror: tuple[Path, dict[str, str]],
) -> None:
    mirrors, shas = mirror
    gd = real_commits.git_dir(mirrors, "acme/shop")
    base = real_commits.parent_of(gd, shas["clean"])
    diff = parse_diff(real_commits.commit_diff(gd, base, shas["clean"]))
    context = real_commits.file_context(gd, base, shas["clean"], diff)
    assert context.head("app/orders.py") == "def list_orders():\n    return list(range(3))\n"
    assert context.base("app/orders.py") == "def list_orders():\n    return []\n"


def test_missing_mirror_and_commit_are_reported_never_silent(
    mirror: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mirrors, shas = mirror
    extra = f"""
[[commit]]
name = "elsewhere"
repo = "acme/other"
sha = "{shas["clean"]}"
lang = "python"
framework = "none"
clean = true

[[commit]]
name = "gone"
repo = "acme/shop"
sha = "{"0" * 40}"
lang = "python"
framework = "none"
clean = true
"""
    labels = tmp_path / "labels.toml"
    labels.write_text(_labels(shas, extra=extra))
    assert real_commits.main(["--mirrors", str(mirrors), "--labels", str(labels)]) == 1
    out = capsys.readouterr().out
    assert "2 of 4 labelled commits run" in out
    assert "SKIPPED 2 commit(s)" in out
    assert "elsewhere (acme/other" in out
    assert "gone (acme/shop" in out


def _finding(rule: str, path: str, lines: str | None, side: str = "RIGHT") -> Finding:
    return Finding(
        id=f"{rule}-{path}-{lines}",
        rule=rule,
        source=Source.RULE,
        type="evidence",
        category="migrations",
        severity="major",
        title="t",
        where=Where(path=path, lines=lines, side="LEFT" if side == "LEFT" else "RIGHT"),
        evidence="e",
        recommendation="r",
    )


_TWO_HUNKS = """\
diff --git a/app/api.py b/app/api.py
--- a/app/api.py
+++ b/app/api.py
@@ -1,2 +1,3 @@
 a
+b
 c
@@ -40,2 +41,3 @@
 x
+y
 z
"""


def test_matching_tolerance_hunks_and_side() -> None:
    commit = parse_labels(
        """
[[commit]]
name = "c"
repo = "o/r"
sha = "abc"
lang = "python"
framework = "fastapi"
clean = false
[[commit.expect]]
family = "authorization"
path = "app/api.py"
line = 2
evidence = "route without the guard"
"""
    )[0]
    diff = parse_diff(_TWO_HUNKS)

    def score(*findings: Finding) -> Tally:
        tallies: dict[str, Tally] = {}
        score_commit(commit, list(findings), diff, tallies, ["authorization"])
        return tallies["authorization"]

    near = score(_finding("authz-unguarded-route", "app/api.py", "3"))
    assert (near.tp, near.fp, near.fn) == (1, 0, 0)
    # Another hunk, far away: a false positive, and the label stays a false negative.
    far = score(_finding("authz-unguarded-route", "app/api.py", "42"))
    assert (far.tp, far.fp, far.fn) == (0, 1, 1)
    assert [m.kind for m in far.misses] == ["FP", "FN"]
    # Old-side line numbers never match a new-side label.
    left = score(_finding("authz-guard-removed", "app/api.py", "2", side="LEFT"))
    assert (left.tp, left.fp, left.fn) == (0, 1, 1)
    # A second finding on the same label is not a second true positive.
    twice = score(
        _finding("authz-unguarded-route", "app/api.py", "2"),
        _finding("authz-opt-out", "app/api.py", "3"),
    )
    assert (twice.tp, twice.fp, twice.fn) == (1, 1, 0)
    # Rules outside the five families are not scored.
    assert score(_finding("tests-missing", "app/api.py", "2")).fn == 1
    assert family_of("tests-missing") is None
    assert family_of("migration-set-not-null") == "migration"


def test_a_long_hunk_is_no_licence_to_match_anywhere_in_it() -> None:
    body = "".join(f"+line {n}\n" for n in range(1, 81))
    diff = parse_diff(
        "diff --git a/app/routes.py b/app/routes.py\nnew file mode 100644\n"
        f"--- /dev/null\n+++ b/app/routes.py\n@@ -0,0 +1,80 @@\n{body}"
    )
    commit = parse_labels(
        """
[[commit]]
name = "c"
repo = "o/r"
sha = "abc"
lang = "python"
framework = "fastapi"
clean = false
[[commit.expect]]
family = "authorization"
path = "app/routes.py"
line = 10
evidence = "route without the guard"
"""
    )[0]
    tallies: dict[str, Tally] = {}
    other_route = _finding("authz-unguarded-route", "app/routes.py", "70")
    score_commit(commit, [other_route], diff, tallies, ["authorization"])
    assert (tallies["authorization"].tp, tallies["authorization"].fp) == (0, 1)


def test_a_label_matches_at_its_alternative_place() -> None:
    commit = parse_labels(
        """
[[commit]]
name = "c"
repo = "o/r"
sha = "abc"
lang = "typescript"
framework = "nestjs"
clean = false
[[commit.expect]]
family = "idempotency"
path = "src/pay.service.ts"
line = "15-20"
also = ["app/api.py:2"]
evidence = "confirmed PaymentIntent without an idempotency key, called from the handler"
"""
    )[0]
    diff = parse_diff(_TWO_HUNKS)
    tallies: dict[str, Tally] = {}
    handler = _finding("idempotency-key-missing", "app/api.py", "3")
    elsewhere = _finding("idempotency-key-missing", "app/api.py", "42")
    score_commit(commit, [elsewhere, handler], diff, tallies, ["idempotency"])
    tally = tallies["idempotency"]
    assert (tally.tp, tally.fp, tally.fn) == (1, 1, 0)
    assert [m.where for m in tally.misses] == ["app/api.py:42"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('family = "style"\npath = "a.py"\nevidence = "e"', "unknown family"),
        ('family = "secret"\npath = "a.py"\nevidence = " "', "without evidence"),
        ('family = "secret"\nevidence = "e"', "needs a path"),
        ('family = "secret"\npath = "a.py"\nline = "x-2"\nevidence = "e"', "invalid literal"),
    ],
)
def test_malformed_labels_are_refused(body: str, error: str) -> None:
    text = f"""
[[commit]]
name = "c"
repo = "o/r"
sha = "abc"
lang = "python"
framework = "flask"
clean = false
[[commit.expect]]
{body}
"""
    with pytest.raises(ValueError, match=error):
        parse_labels(text)


def test_clean_and_labelled_commits_are_consistent() -> None:
    head = 'name = "c"\nrepo = "o/r"\nsha = "abc"\nlang = "py"\nframework = "f"\n'
    with pytest.raises(ValueError, match="nothing expected"):
        parse_labels(f"[[commit]]\n{head}clean = false\n")
    with pytest.raises(ValueError, match="duplicate"):
        parse_labels(f"[[commit]]\n{head}clean = true\n[[commit]]\n{head}clean = true\n")
