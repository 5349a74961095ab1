"""Anchoring: nothing we emit can be rejected by GitHub, and exact hits stay exact."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.review.anchor import SNAP_DISTANCE, Anchor, Anchorer
from app.review.diff import Diff, parse_diff
from app.review.findings import Where
from tests.review.diffgen import SpecFile, diffs

DIFF = parse_diff(
    "diff --git a/app/api.py b/app/api.py\n--- a/app/api.py\n+++ b/app/api.py\n"
    "@@ -10,4 +10,5 @@ def create():\n"
    " a\n-b\n+B\n+C\n c\n d\n"  # RIGHT 10-14, LEFT 11
    "@@ -40,3 +41,3 @@ def delete():\n"
    " x\n-y\n+Y\n z\n"  # RIGHT 41-43, LEFT 41
    "diff --git a/old.py b/new.py\nsimilarity index 90%\nrename from old.py\nrename to new.py\n"
    "diff --git a/logo.png b/logo.png\nBinary files a/logo.png and b/logo.png differ\n"
)


def _at(lines: str | None, side: str = "RIGHT", path: str = "app/api.py") -> Anchor:
    return Anchorer(DIFF).anchor(Where.model_validate({"path": path, "lines": lines, "side": side}))


def test_exact_line_and_range() -> None:
    assert _at("11") == Anchor("line", "app/api.py", "RIGHT", line=11, exact=True)
    assert _at("10-14") == Anchor("line", "app/api.py", "RIGHT", line=14, start_line=10, exact=True)
    assert _at("11", "LEFT") == Anchor("line", "app/api.py", "LEFT", line=11, exact=True)


def test_near_miss_snaps_into_the_hunk() -> None:
    moved = _at("16")
    assert (moved.kind, moved.line, moved.exact) == ("line", 14, False)
    assert "moved from line 16" in moved.note
    assert _at("12", "LEFT").line == 11


def test_range_is_narrowed_to_one_hunk() -> None:
    narrowed = _at("8-45")
    assert (narrowed.start_line, narrowed.line, narrowed.exact) == (10, 14, False)
    tail = _at("13-20")
    assert (tail.start_line, tail.line) == (13, 14)
    single = _at("43-50")
    assert (single.start_line, single.line) == (None, 43)


def test_far_lines_become_file_level_and_unknown_files_go_to_the_summary() -> None:
    assert _at("30").kind == "file"
    assert _at("30").note == "line 30 is not in the diff"
    assert _at(None) == Anchor("file", "app/api.py", "RIGHT", exact=True)
    assert _at("3", path="other.py").kind == "summary"
    assert _at("1", path="logo.png").kind == "file"


def test_old_path_of_a_rename_finds_the_file() -> None:
    assert _at(None, path="old.py").path == "new.py"


def _valid(anchor: Anchor, diff: Diff) -> None:
    if anchor.kind == "summary":
        assert diff.file(anchor.path) is None
        return
    file = diff.file(anchor.path)
    assert file is not None
    if anchor.kind == "file":
        assert anchor.line is None
        return
    assert anchor.line is not None
    hunk = file.hunk_at(anchor.line, anchor.side)
    assert hunk is not None, "line is off the diff"
    if anchor.start_line is not None:
        assert anchor.start_line < anchor.line
        assert anchor.start_line in hunk.numbers(anchor.side), "range leaves its hunk"


_WHERE = st.tuples(
    st.integers(1, 120), st.integers(0, 12), st.sampled_from(["LEFT", "RIGHT"]), st.booleans()
)


@settings(max_examples=300)
@given(diffs(), st.lists(_WHERE, min_size=1, max_size=8), st.data())
def test_nothing_anchored_is_off_the_diff(
    case: tuple[str, list[SpecFile]],
    wheres: list[tuple[int, int, str, bool]],
    data: st.DataObject,
) -> None:
    diff = parse_diff(case[0])
    anchorer = Anchorer(diff)
    for start, length, side, known_path in wheres:
        path = data.draw(st.sampled_from(diff.paths)) if known_path else "not/in/diff.py"
        lines = f"{start}-{start + length}" if length else str(start)
        where = Where.model_validate({"path": path, "lines": lines, "side": side})
        anchor = anchorer.anchor(where)
        _valid(anchor, diff)
        file = diff.file(path)
        if file is None:
            continue
        commentable = file.commentable(where.side)
        if not length and start in commentable:
            assert (anchor.line, anchor.exact) == (start, True)
        if anchor.kind == "line" and not anchor.exact:
            assert anchor.line is not None
            assert min(abs(anchor.line - start), abs(anchor.line - start - length)) <= max(
                SNAP_DISTANCE, length
            )
        if anchor.kind == "file":
            near = range(start - SNAP_DISTANCE, start + length + SNAP_DISTANCE + 1)
            assert not commentable.intersection(near)
