"""The diff model: what GitHub and git produce, what breaks, and that nothing else escapes."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.review.diff import (
    DiffParseError,
    FilePatch,
    diff_from_patches,
    parse_diff,
    patch_as_diff,
    quote_path,
    unquote_path,
)
from tests.review.diffgen import SpecFile, diffs

MIXED = (Path(__file__).parent.parent / "diffs" / "mixed.diff").read_text(encoding="utf-8")


def test_git_diff_statuses_and_paths() -> None:
    diff = parse_diff(MIXED)
    got = {f.path: (f.status, f.old_path) for f in diff.files}
    assert got == {
        "app/users.py": ("modified", None),
        "café.txt": ("modified", None),
        "crlf.txt": ("modified", None),
        "empty.txt": ("added", None),
        "logo.png": ("added", None),
        "new_name.txt": ("renamed", "old_name.txt"),
        "nonl.txt": ("modified", None),
        "removed.py": ("removed", None),
        "script.sh": ("modified", None),
        "sub_moved.txt": ("renamed", "moved.txt"),
    }


def test_line_numbers_and_commentable_sides() -> None:
    users = parse_diff(MIXED).file("app/users.py")
    assert users is not None
    assert [(ln.kind, ln.old_no, ln.new_no) for ln in users.lines()][:3] == [
        ("removed", 1, None),
        ("added", None, 1),
        ("context", 2, 2),
    ]
    assert users.commentable("RIGHT") == frozenset(range(1, 7))
    assert users.commentable("LEFT") == frozenset({1})
    assert [ln.text for ln in users.added_lines()] == [
        "def get_user(user_id, actor):",
        "    check_access(actor, user)",
    ]
    assert (users.added, users.removed) == (2, 1)
    assert users.line_at(3) is not None
    assert users.line_at(3, "LEFT") is None


def test_binary_empty_mode_only_and_pure_rename() -> None:
    diff = parse_diff(MIXED)
    logo, empty, script, moved = (
        diff.file(p) for p in ("logo.png", "empty.txt", "script.sh", "sub_moved.txt")
    )
    assert logo is not None
    assert logo.is_binary
    assert not logo.hunks
    assert not logo.mode_only
    assert empty is not None
    assert not empty.hunks
    assert not empty.is_binary
    assert not empty.mode_only
    assert script is not None
    assert script.mode_only
    assert not script.hunks
    assert moved is not None
    assert moved.mode_only


def test_no_newline_marker_is_not_a_line() -> None:
    nonl = parse_diff(MIXED).file("nonl.txt")
    assert nonl is not None
    assert [(ln.kind, ln.text) for ln in nonl.lines()] == [("removed", "x"), ("added", "y")]


def test_crlf_content_and_crlf_diff_read_the_same() -> None:
    lf = parse_diff(MIXED)
    crlf = parse_diff(MIXED.replace("\n", "\r\n"))
    assert crlf.paths == lf.paths
    for a, b in zip(lf.files, crlf.files, strict=True):
        assert a == b
    crlf_file = lf.file("crlf.txt")
    assert crlf_file is not None
    assert [ln.text for ln in crlf_file.lines()] == ["a", "b", "B"]


def test_lone_carriage_return_and_form_feed_stay_inside_the_line() -> None:
    text = "--- a/x.py\n+++ b/x.py\n@@ -1 +1,2 @@\n a\rb\n+c\x0cd\u2028e\n"
    f = parse_diff(text).files[0]
    assert [ln.text for ln in f.lines()] == ["a\rb", "c\x0cd\u2028e"]


def test_quoted_paths() -> None:
    assert unquote_path('"caf\\303\\251.txt"') == "café.txt"
    assert unquote_path('"tab\\there \\"q\\""') == 'tab\there "q"'
    assert unquote_path("plain.txt") == "plain.txt"
    for path in ["a b.py", 'we"ird\\name\t.py', "ünï.py", "bell\x07.py"]:
        assert unquote_path(quote_path(path)) == path


def test_plain_diff_u_with_sql_comment_removed() -> None:
    # "-- comment" removed renders as "--- comment": inside a hunk it is a line, not a header
    text = (
        "--- a/db/0001.sql\t2024-01-01\n+++ b/db/0001.sql\t2024-01-02\n@@ -1,2 +1,1 @@\n"
        "--- drop this comment\n ALTER TABLE t ADD c int;\n"
        "--- a/db/0002.sql\n+++ b/db/0002.sql\n@@ -1 +1 @@\n-x\n+y\n"
    )
    diff = parse_diff(text)
    assert diff.paths == ["db/0001.sql", "db/0002.sql"]
    assert next(diff.files[0].removed_lines()).text == "-- drop this comment"


def test_format_patch_preamble_and_signature_are_ignored() -> None:
    text = (
        "From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] fix\n\n - a bullet\n+ another\n---\n"
        " x.py | 2 +-\n\n" + MIXED.split('diff --git "a/caf')[0] + "-- \n2.45.0\n"
    )
    diff = parse_diff(text)
    assert diff.paths == ["app/users.py"]


def test_hunk_header_without_counts() -> None:
    f = parse_diff("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -3 +3 @@\n-a\n+b\n").files[0]
    assert [(ln.old_no, ln.new_no) for ln in f.lines()] == [(3, None), (None, 3)]


@pytest.mark.parametrize(
    ("text", "message", "path", "line"),
    [
        (
            "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n-b\n",
            "diff ends inside a hunk",
            "x.py",
            6,
        ),
        (
            "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\nboom\n c\n",
            "hunk ends before",
            "x.py",
            6,
        ),
        (
            "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,1 +1,2 @@\n-a\n-b\n+c\n",
            "more lines than",
            "x.py",
            6,
        ),
        ("@@ -1 +1 @@\n-a\n+b\n", "hunk without a file header", None, 1),
        ("hello, this is not a diff\n", "no file headers", None, 1),
        (
            "diff --git a/y.py b/y.py\n--- a/y.py\n+++ b/y.py\n@@ -x +1 @@\n",
            "malformed @@",
            "y.py",
            4,
        ),
        (
            "diff --git a/ok b/ok\n--- a/ok\n+++ b/ok\n@@ -1 +1 @@\n-a\n+b\n"
            'diff --git "a/caf\\303\\251" "b/caf\\303\\251"\n'
            "--- a/c\n+++ b/c\n@@ -1,2 +1,2 @@\n-a\n",
            "diff ends inside a hunk",
            "café",
            11,
        ),
    ],
)
def test_malformed_diffs_name_file_and_line(
    text: str, message: str, path: str | None, line: int
) -> None:
    with pytest.raises(DiffParseError) as err:
        parse_diff(text)
    assert message in str(err.value)
    assert err.value.path == path
    assert err.value.line == line
    assert f"diff line {line}" in str(err.value)


def test_empty_text_is_an_empty_diff() -> None:
    assert parse_diff("").files == ()
    assert parse_diff("\n  \n").files == ()


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(diffs())
def test_random_valid_diffs_parse_to_their_lines(case: tuple[str, list[SpecFile]]) -> None:
    text, specs = case
    diff = parse_diff(text)
    assert diff.paths == [s.path for s in specs]
    for got, want in zip(diff.files, specs, strict=True):
        assert got.status == want.status
        assert len(got.hunks) == want.hunk_count
        assert [(ln.kind, ln.old_no, ln.new_no, ln.text) for ln in got.lines()] == [
            (s.kind, s.old_no, s.new_no, s.text) for s in want.lines
        ]


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_any_text_parses_or_raises_diff_parse_error(text: str) -> None:
    with contextlib.suppress(DiffParseError):
        parse_diff(text)


_PIECES = [
    "diff --git a/x b/x\n",
    "--- a/x\n",
    "+++ b/x\n",
    "--- /dev/null\n",
    "+++ /dev/null\n",
    "@@ -1,2 +1,2 @@\n",
    "@@ -0,0 +1 @@\n",
    "@@ -1 +0,0 @@\n",
    " c\n",
    "-r\n",
    "+a\n",
    "\n",
    "\\ No newline at end of file\n",
    "new file mode 100644\n",
    "deleted file mode 100644\n",
    "Binary files a/x and b/x differ\n",
    "GIT binary patch\n",
    "rename from x\n",
    "old mode 100644\n",
    'diff --git "a/\\303" "b/\\303"\n',
    "diff --git x\n",
    "+++ \n",
]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(_PIECES), max_size=25))
def test_diff_shaped_garbage_parses_or_raises_diff_parse_error(pieces: list[str]) -> None:
    error: DiffParseError | None = None
    try:
        parse_diff("".join(pieces))
    except DiffParseError as exc:
        error = exc
    if error is not None:
        assert error.line is not None or "no file" in str(error)


@settings(max_examples=200)
@given(st.randoms(use_true_random=False), st.integers(0, 5))
def test_mutated_real_diff_parses_or_raises_diff_parse_error(rnd: random.Random, n: int) -> None:
    lines = MIXED.split("\n")
    for _ in range(n):
        i = rnd.randrange(len(lines))
        action = rnd.randrange(3)
        if action == 0:
            del lines[i]
        elif action == 1:
            lines.insert(i, rnd.choice(lines))
        else:
            lines[i] = lines[i][: rnd.randrange(len(lines[i]) + 1)]
    with contextlib.suppress(DiffParseError):
        parse_diff("\n".join(lines))


# --- GitHub's files API ------------------------------------------------------------------------


def test_patches_with_status() -> None:
    diff = diff_from_patches(
        [
            FilePatch("app/new.py", "@@ -0,0 +1,2 @@\n+a\n+b", status="added"),
            FilePatch("app/old.py", "@@ -1 +0,0 @@\n-gone", status="removed"),
            FilePatch(
                "app/b.py",
                "@@ -1,2 +1,2 @@\n x\r\n-y\r\n+z\r\n",
                status="renamed",
                previous_path="app/a.py",
            ),
            FilePatch("app/moved.py", None, status="renamed", previous_path="app/m.py", changes=0),
            FilePatch("img/logo.png", None, status="added"),
            FilePatch("data/huge.sql", None, status="modified", changes=40000),
            FilePatch("docs/café guide.md", "@@ -1 +1 @@\n-a\n+b", status="modified"),
        ]
    )
    by = {f.path: f for f in diff.files}
    assert by["app/new.py"].status == "added"
    assert [ln.new_no for ln in by["app/new.py"].lines()] == [1, 2]
    assert by["app/old.py"].status == "removed"
    assert by["app/old.py"].commentable("LEFT") == frozenset({1})
    assert (by["app/b.py"].status, by["app/b.py"].old_path) == ("renamed", "app/a.py")
    assert [ln.text for ln in by["app/b.py"].lines()] == ["x", "y", "z"]
    assert by["app/moved.py"].mode_only
    assert not by["app/moved.py"].no_patch
    assert by["img/logo.png"].no_patch
    assert by["img/logo.png"].status == "added"
    assert by["data/huge.sql"].no_patch
    assert not by["data/huge.sql"].mode_only
    assert by["docs/café guide.md"].added == 1


def test_patch_error_counts_lines_from_the_patch() -> None:
    with pytest.raises(DiffParseError) as err:
        diff_from_patches([FilePatch("x.py", "@@ -1,2 +1,2 @@\n a\nzzz\n")])
    assert (err.value.path, err.value.line) == ("x.py", 3)


def test_patch_as_diff_quotes_awkward_paths() -> None:
    text = patch_as_diff('we"ird.py', "@@ -1 +1 @@\n-a\n+b\n")
    assert parse_diff(text).paths == ['we"ird.py']


def test_quoted_path_with_a_backslash_before_digits_round_trips() -> None:
    # git writes the path `a\303.py` as "a\\303.py": an escaped backslash, then digits, which
    # are not an octal escape.
    from app.review.gitpath import quote_path, unquote_path

    for path in ["a\\303.py", "x\\\\\\101\t\u00e9.py", "caf\u00e9.py"]:
        assert unquote_path(quote_path(path)) == path
    assert unquote_path('"a\\\\303.py"') == "a\\303.py"
    assert unquote_path('"caf\\303\\251 \\\\\\303\\251.py"') == "caf\u00e9 \\\u00e9.py"
    diff = parse_diff(
        'diff --git "a/a\\\\303.py" "b/a\\\\303.py"\n--- "a/a\\\\303.py"\n'
        '+++ "b/a\\\\303.py"\n@@ -1 +1 @@\n-x\n+y\n'
    )
    assert diff.paths == ["a\\303.py"]


def test_header_without_a_path_before_a_binary_line_is_a_parse_error() -> None:
    # Found by the garbage fuzz test: unidiff reads two files here, the first with no path.
    with pytest.raises(DiffParseError, match="file header without a path"):
        parse_diff("--- /dev/null\n+++ \nBinary files a/x and b/x differ\n")


def test_a_series_of_patches_touching_one_file_twice_is_refused() -> None:
    one = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x\n+y\n"
    two = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-y\n+z\n"
    with pytest.raises(DiffParseError) as caught:
        parse_diff(one + two)
    assert caught.value.path == "a.py"
    assert "git diff BASE...HEAD" in str(caught.value)


def test_a_file_that_becomes_a_symlink_is_one_removal_and_one_addition() -> None:
    text = (
        "diff --git a/cfg.py b/cfg.py\ndeleted file mode 100644\nindex 1111111..0000000\n"
        "--- a/cfg.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-DEBUG = False\n-KEY = env('KEY')\n"
        "diff --git a/cfg.py b/cfg.py\nnew file mode 120000\nindex 0000000..2222222\n"
        "--- /dev/null\n+++ b/cfg.py\n@@ -0,0 +1 @@\n+app.py\n\\ No newline at end of file\n"
    )

    diff = parse_diff(text)

    assert [(f.path, f.status) for f in diff.files] == [("cfg.py", "removed"), ("cfg.py", "added")]
    assert diff.file("cfg.py") is not None
