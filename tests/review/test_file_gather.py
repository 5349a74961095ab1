"""Which files a review reads in whole, and the FileContext assembled within the limits."""

from __future__ import annotations

import difflib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.review.diff import parse_diff
from app.review.file_gather import (
    ContextLimits,
    Fetched,
    Read,
    assemble,
    base_from_head,
    diff_text,
    kept_bytes,
    known_texts,
    plan_reads,
)

HEAD = "".join(f"line {n}\n" for n in range(1, 101))
BASE = HEAD.replace("line 50\n", "old 50\n")


def _modified(path: str, *, at: int = 50) -> str:
    return (
        f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
        f"@@ -{at - 1},3 +{at - 1},3 @@\n line {at - 1}\n-old {at}\n+line {at}\n line {at + 1}\n"
    )


ADDED = (
    "diff --git a/app/api/new.py b/app/api/new.py\nnew file mode 100644\n"
    "--- /dev/null\n+++ b/app/api/new.py\n@@ -0,0 +1,2 @@\n+from app.auth import admin\n+@admin\n"
)
REMOVED = (
    "diff --git a/app/gone.py b/app/gone.py\ndeleted file mode 100644\n"
    "--- a/app/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
)
OTHERS = (
    "diff --git a/tests/test_x.py b/tests/test_x.py\n--- a/tests/test_x.py\n+++ b/tests/test_x.py\n"
    "@@ -1 +1 @@\n-a\n+b\n"
    "diff --git a/docs/x.md b/docs/x.md\n--- a/docs/x.md\n+++ b/docs/x.md\n@@ -1 +1 @@\n-a\n+b\n"
    "diff --git a/poetry.lock b/poetry.lock\n--- a/poetry.lock\n+++ b/poetry.lock\n"
    "@@ -1 +1 @@\n-a\n+b\n"
    "diff --git a/logo.png b/logo.png\nnew file mode 100644\nindex 0000000..e69de29\n"
    "Binary files /dev/null and b/logo.png differ\n"
)
DIFF = parse_diff(
    _modified("app/services/refunds.py")
    + _modified("app/api/refunds.py")
    + ADDED
    + REMOVED
    + OTHERS
)


def test_plan_reads_code_files_most_important_first() -> None:
    plan = plan_reads(DIFF, ("vendor/**",), ContextLimits())
    assert [f.path for f in plan.files] == [
        "app/api/new.py",
        "app/api/refunds.py",
        "app/gone.py",
        "app/services/refunds.py",
    ]
    # the route file's base is compared by rules; a service file's is not; added and removed
    # files are in the diff whole
    assert plan.reads == (
        Read("head", "app/api/refunds.py"),
        Read("base", "app/api/refunds.py"),
        Read("head", "app/services/refunds.py"),
    )
    assert plan.left_out == ()
    assert known_texts(plan) == [("app/api/new.py", "from app.auth import admin\n@admin\n")]


def test_a_change_that_may_declare_a_route_reads_the_base_wherever_the_file_lives() -> None:
    # FastAPI's usual layouts (`app/main.py`, `app/users.py`) are not routes by their path:
    # a new route there is judged against its siblings in the base all the same.
    route = (
        "diff --git a/app/users.py b/app/users.py\n--- a/app/users.py\n+++ b/app/users.py\n"
        "@@ -9,2 +9,4 @@\n x = 1\n y = 2\n+@router.delete('/users/{user_id}')\n"
        "+def delete_user(user_id: int): ...\n"
    )
    plain = _modified("app/money.py")
    go = route.replace("app/users.py", "app/users.go")
    plan = plan_reads(parse_diff(route + plain + go), (), ContextLimits())
    assert [r for r in plan.reads if r.side == "base"] == [Read("base", "app/users.py")]


@pytest.mark.parametrize(
    ("path", "added", "compared"),
    [
        ("app/main.py", "@app.post('/items')", True),
        ("app/users.py", "    @router.api_route('/x', methods=['GET'])", True),
        ("app/export.py", "class Export(APIView):", True),
        ("app/misc.py", "@api_view(['POST'])", True),
        ("src/server.ts", "router.delete('/users/:id', remove)", True),
        ("src/users.ts", "  @Delete(':id')", True),
        # Decorators, e-mail addresses and calls that declare nothing: the base is not read.
        ("app/money.py", "    @property", False),
        ("app/money.py", "OPS = 'ops@example.com'", False),
        ("app/money.py", "session.request('GET', url)", False),
        ("app/money.py", "value = cache.get(key)", False),
        ("src/util.ts", "const v = headers.get('x-id')", False),
    ],
)
def test_only_a_change_that_declares_a_route_reads_an_ordinary_files_base(
    path: str, added: str, compared: bool
) -> None:
    diff = parse_diff(
        f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
        f"@@ -9,2 +9,3 @@\n x = 1\n+{added}\n y = 2\n"
    )
    plan = plan_reads(diff, (), ContextLimits())
    assert (Read("base", path) in plan.reads) is compared


def test_max_files_leaves_the_least_important_out_with_a_note() -> None:
    plan = plan_reads(DIFF, (), ContextLimits(max_files=1))
    assert [f.path for f in plan.files] == ["app/api/new.py"]
    context = assemble(plan, {}, ContextLimits(max_files=1))
    assert context.head("app/api/new.py") == "from app.auth import admin\n@admin\n"
    assert context.notes == (
        "whole text of 3 files not read (over the limit of 1 files): app/api/refunds.py, "
        "app/gone.py, app/services/refunds.py; hunks only",
    )


def test_assemble_whole_texts_and_what_is_missing() -> None:
    plan = plan_reads(DIFF, (), ContextLimits())
    found = {
        Read("head", "app/api/refunds.py"): Fetched(HEAD, len(HEAD)),
        Read("base", "app/api/refunds.py"): Fetched(BASE, len(BASE)),
        Read("head", "app/services/refunds.py"): None,
    }
    context = assemble(plan, found, ContextLimits(), extra=[("app/auth.py", Fetched("A\n", 2))])
    refunds = context.get("app/api/refunds.py")
    assert refunds is not None
    assert (refunds.head, refunds.base, refunds.cut) == (HEAD, BASE, False)
    assert context.base("app/gone.py") == "bye\n"
    assert context.head("app/gone.py") is None
    assert context.head("app/auth.py") == "A\n"
    assert context.get("app/services/refunds.py") is None
    assert context.notes == (
        "whole text of 1 file not read (not found at the head commit): "
        "app/services/refunds.py; hunks only",
    )


def test_a_text_that_disagrees_with_the_diff_is_left_out() -> None:
    plan = plan_reads(DIFF, (), ContextLimits())
    edited = HEAD.replace("line 51\n", "edited since\n")
    found = {Read("head", "app/api/refunds.py"): Fetched(edited, len(edited))}
    context = assemble(plan, found, ContextLimits())
    assert context.get("app/api/refunds.py") is None
    assert "head text does not match the diff" in context.notes[0]


def test_large_files_are_cut_around_the_hunks_keeping_line_numbers() -> None:
    limits = ContextLimits(file_bytes=2_000)
    big = "".join(f"line {n}\n" for n in range(1, 5_001))
    diff = parse_diff(_modified("app/api/refunds.py", at=2_500))
    plan = plan_reads(diff, (), limits)
    found = {
        Read("head", "app/api/refunds.py"): Fetched(big, len(big)),
        Read("base", "app/api/refunds.py"): None,
    }
    context = assemble(plan, found, limits)
    text = context.get("app/api/refunds.py")
    assert text is not None
    assert text.cut
    assert text.head is not None
    lines = text.head.split("\n")
    assert len(lines) == len(big.split("\n"))
    assert lines[2_499] == "line 2500"
    assert lines[0] == ""
    assert lines[-2] == ""
    assert kept_bytes(text.head) <= 2_000 < len(text.head)


def test_a_text_github_truncated_is_cut_and_its_partial_last_line_dropped() -> None:
    partial = HEAD[: HEAD.index("line 80") + 3]  # "...line 79\nlin"
    plan = plan_reads(parse_diff(_modified("app/services/refunds.py")), (), ContextLimits())
    found = {Read("head", "app/services/refunds.py"): Fetched(partial, 10**6, truncated=True)}
    text = assemble(plan, found, ContextLimits()).get("app/services/refunds.py")
    assert text is not None
    assert text.cut
    assert text.head is not None
    assert text.head.split("\n")[49] == "line 50"
    assert "lin\n" not in text.head
    assert not text.head.endswith("lin")


def test_the_review_byte_budget_cuts_tighter_then_leaves_out() -> None:
    diff = parse_diff("".join(_modified(f"app/services/s{i}.py") for i in range(3)))
    limits = ContextLimits(review_bytes=len(HEAD) + 200)
    plan = plan_reads(diff, (), limits)
    found = {r: Fetched(HEAD, len(HEAD)) for r in plan.reads}
    context = assemble(plan, found, limits)
    first, second = context.get("app/services/s0.py"), context.get("app/services/s1.py")
    assert first is not None
    assert not first.cut
    assert second is not None
    assert second.cut
    assert context.get("app/services/s2.py") is None
    assert "over the review's limit" in context.notes[0]


def test_binary_blobs_and_failures_become_notes_not_errors() -> None:
    plan = plan_reads(DIFF, (), ContextLimits())
    found: dict[Read, Fetched | None] = {Read("head", "app/api/refunds.py"): Fetched(None, 10)}
    failure = "whole files could not be read from GitHub (GitHub answered 502): hunks only"
    context = assemble(plan, found, ContextLimits(), notes=[failure])
    assert context.get("app/api/refunds.py") is None
    assert context.notes == (failure,)


def test_diff_text_only_for_added_heads_and_removed_bases() -> None:
    by_path = {f.path: f for f in DIFF.files}
    assert diff_text(by_path["app/api/new.py"], "base") is None
    assert diff_text(by_path["app/gone.py"], "head") is None
    assert diff_text(by_path["app/api/refunds.py"], "head") is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "", "def f():", "    return 1"]), max_size=30),
    st.lists(st.sampled_from(["a", "b", "x", "", "def g():", "    return 2"]), max_size=30),
    st.integers(min_value=0, max_value=5),
)
def test_the_base_is_rebuilt_exactly_from_the_head_and_the_diff(
    before: list[str], after: list[str], context: int
) -> None:
    old = "".join(f"{line}\n" for line in before)
    new = "".join(f"{line}\n" for line in after)
    if old == new or not old or not new:
        return
    body = "".join(
        ln if ln.endswith("\n") else ln + "\n"
        for ln in difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            "a/m.py",
            "b/m.py",
            n=context,
        )
    )
    [file] = parse_diff(f"diff --git a/m.py b/m.py\n{body}").files
    assert base_from_head(file, new) == old


def test_a_head_edited_since_the_diff_gives_no_base() -> None:
    [file] = parse_diff(_modified("app/api/refunds.py")).files
    assert base_from_head(file, HEAD) == BASE
    assert base_from_head(file, HEAD.replace("line 51\n", "edited 51\n")) is None
    assert base_from_head(file, "line 1\n") is None
