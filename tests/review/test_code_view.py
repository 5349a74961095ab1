"""The prompt shows each hunk in its enclosing function or class, and the file's outline."""

from __future__ import annotations

import re

from app.review.chunking import ChunkPart
from app.review.code_view import AFTER, BEFORE, code_views, views_without_outline
from app.review.diff import parse_diff
from app.review.file_context import FileContext, FileText
from app.review.prompt import render_part

HEAD_LINES = [
    "from fastapi import APIRouter",  # 1
    "",
    "router = APIRouter()",
    "",
    "",
    "@router.post('/refunds')",  # 6
    "def create_refund(",
    "    body: dict,",
    ") -> dict:",
    *[f"    step_{i} = {i}" for i in range(10, 60)],  # 10-59
    "    charge(body)",  # 60: the changed line
    *[f"    after_{i} = {i}" for i in range(61, 90)],  # 61-89
    "    return body",  # 90
    "",
    "",
    "class RefundView:",  # 93
    "    def get(self):",  # 94
    "        return 1",
    "",
    "    def delete(self):",  # 97
    "        x = 1",
    "        return x",  # 99
    "",
    "TOP_LEVEL = 1",  # 101
]
HEAD = "\n".join(HEAD_LINES) + "\n"
DIFF = parse_diff(
    "diff --git a/app/api.py b/app/api.py\n--- a/app/api.py\n+++ b/app/api.py\n"
    "@@ -59,3 +59,3 @@ def create_refund(\n"
    "     step_59 = 59\n-    pay(body)\n+    charge(body)\n     after_61 = 61\n"
    "@@ -95,5 +95,5 @@ class RefundView:\n"
    "         return 1\n \n     def delete(self):\n"
    "-        x = 0\n+        x = 1\n         return x\n"
    "@@ -101 +101 @@\n-TOP_LEVEL = 0\n+TOP_LEVEL = 1\n"
)
FILES = FileContext.of([FileText("app/api.py", HEAD, None)])


def rendered(*, outline: bool = True, part: int = 1, parts: int = 1) -> str:
    views = code_views(DIFF, FILES, with_outline=outline)
    file = DIFF.files[0]
    return render_part(ChunkPart(file, file.hunks, part, parts), views["app/api.py"])


def test_a_hunk_is_shown_inside_its_function_signature_first() -> None:
    text = rendered()
    lines = text.splitlines()
    start = lines.index(
        f"{'':>12}[in def create_refund; unchanged lines of the head file marked =]"
    )
    assert lines[start + 1] == "          6 =@router.post('/refunds')"
    assert lines[start + 4] == "          9 =) -> dict:"
    skipped = 58 - 6 + 1 - BEFORE  # lines 6-58 above the hunk, BEFORE of them shown
    assert lines[start + 5] == f"{'':>12}[... {skipped} lines]"
    assert lines[start + 6 + BEFORE - 4 - 1] == "         58 =    step_58 = 58"
    # after the hunk: AFTER lines, then how many more the function has
    first_after = lines.index("         62 =    after_62 = 62")
    assert (
        lines[first_after + AFTER - 1]
        == f"{62 + AFTER - 1:>11} =    after_{62 + AFTER - 1} = {62 + AFTER - 1}"
    )
    assert (
        lines[first_after + AFTER]
        == f"{'':>12}[... {90 - 62 + 1 - AFTER} more lines of def create_refund]"
    )


def test_a_method_hunk_shows_its_method_and_top_level_code_shows_nothing_more() -> None:
    text = rendered()
    # lines 95-99 are the hunk itself: nothing of `delete` is left to show before or after,
    # and TOP_LEVEL is in no function or class
    assert "[in def delete" not in text
    assert text.count("[in ") == 1


def test_the_outline_on_the_first_part_only_and_when_asked() -> None:
    assert (
        "  outline of the file at the head commit:\n    def create_refund (lines 6-90)"
        in rendered()
    )
    assert "    class RefundView (lines 93-99)\n      def get (lines 94-95)" in rendered()
    assert "outline" not in rendered(part=2, parts=2)
    assert "outline" not in rendered(outline=False)
    views = views_without_outline(code_views(DIFF, FILES, with_outline=True))
    assert views["app/api.py"].outline == ()


def test_without_a_view_the_part_is_rendered_as_before() -> None:
    file = DIFF.files[0]
    plain = render_part(ChunkPart(file, file.hunks))
    assert plain.startswith("FILE app/api.py (modified)\n  OLD   NEW\n@@ -59,3 +59,3 @@")
    assert not re.search(r"^ +\d+ =", plain, re.MULTILINE)


def test_no_view_for_added_files_unknown_languages_or_missing_texts() -> None:
    diff = parse_diff(
        "diff --git a/app/new.py b/app/new.py\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/app/new.py\n@@ -0,0 +1 @@\n+x = 1\n"
        "diff --git a/conf.yml b/conf.yml\n--- a/conf.yml\n+++ b/conf.yml\n@@ -1 +1 @@\n-a\n+b\n"
        "diff --git a/app/b.py b/app/b.py\n--- a/app/b.py\n+++ b/app/b.py\n@@ -1 +1 @@\n-a\n+b\n"
    )
    files = FileContext.of(
        [FileText("app/new.py", "x = 1\n", None), FileText("conf.yml", "b\n", "a\n")]
    )
    assert code_views(diff, files, with_outline=True) == {}


def test_a_cut_text_says_so_and_lines_past_the_end_are_blank() -> None:
    short = "\n".join(HEAD_LINES[:61])  # the file ends at the changed line
    files = FileContext.of([FileText("app/api.py", short, None, cut=True)])
    views = code_views(DIFF, files, with_outline=True)
    file = DIFF.files[0]
    text = render_part(ChunkPart(file, file.hunks[:1]), views["app/api.py"])
    assert "outline of the file at the head commit, lines far from the changes not read:" in text


def test_a_huge_minified_line_is_clipped() -> None:
    head = "def f():\n    x = '" + "a" * 50_000 + "'\n    y = 1\n    return y\n"
    diff = parse_diff(
        "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -3 +3 @@\n-    y = 0\n+    y = 1\n"
    )
    views = code_views(diff, FileContext.of([FileText("m.py", head, None)]), with_outline=False)
    text = render_part(ChunkPart(diff.files[0], diff.files[0].hunks), views["m.py"])
    assert "…[line cut]" in text
    assert len(text) < 2_000
