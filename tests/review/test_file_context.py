from app.review.diff import parse_diff
from app.review.file_context import EMPTY, FileContext, FileText, cut_around
from app.review.rules.base import Change

DIFF = """\
diff --git a/app/a.py b/app/a.py
--- a/app/a.py
+++ b/app/a.py
@@ -2,1 +2,1 @@
-old
+new
"""


def test_cut_around_keeps_numbering_and_blanks_far_lines() -> None:
    text = "\n".join(f"l{i}" for i in range(1, 11))
    cut = cut_around(text, [5], radius=1)
    assert cut.split("\n") == ["", "", "", "l4", "l5", "l6", "", "", "", ""]


def test_cut_around_merges_windows_and_clips_at_the_edges() -> None:
    text = "a\nb\nc\nd"
    assert cut_around(text, [1, 4], radius=0) == "a\n\n\nd"
    assert cut_around(text, [1, 1, 99], radius=5) == text
    assert cut_around(text, [], radius=3) == "\n\n\n"


def test_changed_files_carry_their_texts() -> None:
    ctx = FileContext.of(
        [FileText("app/a.py", head="x\nnew\n", base="x\nold\n"), FileText("app/r.py", "r", "r")],
        notes=["app/big.py: not read (over 1 MB)"],
    )
    change = Change.build(parse_diff(DIFF), (), ctx)
    (f,) = change.files
    assert f.head_text == "x\nnew\n"
    assert f.base_text == "x\nold\n"
    assert change.context.head("app/r.py") == "r"
    assert change.context.base("app/missing.py") is None
    assert ctx
    assert not EMPTY


def test_without_context_texts_are_unknown() -> None:
    (f,) = Change.build(parse_diff(DIFF)).files
    assert f.head_text is None
    assert f.base_text is None
