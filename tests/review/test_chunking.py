"""Planning model calls for large PRs: priority, packing, splitting, budgets, what is left out."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.review.chunking import (
    ChunkPart,
    ChunkPlan,
    estimate_tokens,
    plan_chunks,
    review_priority,
)
from app.review.diff import Diff, DiffLine, FileDiff, Hunk, parse_diff
from tests.review.diffgen import diffs

LINE = "x" * 29  # with its newline, 30 characters: exactly 10 estimated tokens per line


def lines_only(part: ChunkPart) -> str:
    return "".join(ln.text + "\n" for h in part.hunks for ln in h.lines)


def with_header(part: ChunkPart) -> str:
    head = f"## {part.file.path} (part {part.part} of {part.parts})\n"
    return head + "".join(f"{ln.new_no} {ln.text}\n" for h in part.hunks for ln in h.lines)


def hunk(start: int, n: int, *, removed: bool = False) -> Hunk:
    if removed:
        rows = tuple(DiffLine("removed", start + i, None, LINE) for i in range(n))
        return Hunk(start, n, 0, 0, "", rows)
    rows = tuple(DiffLine("added", None, start + i, LINE) for i in range(n))
    return Hunk(start, 0, start, n, "", rows)


def file(path: str, *sizes: int, starts: tuple[int, ...] = (), removed: bool = False) -> FileDiff:
    """A file whose hunks have `sizes` lines (10 tokens each under `lines_only`)."""
    starts = starts or tuple(1 + 100 * i for i in range(len(sizes)))
    hunks = tuple(hunk(s, n, removed=removed) for s, n in zip(starts, sizes, strict=True))
    total = sum(sizes)
    return FileDiff(
        path=path,
        old_path=None,
        status="removed" if removed else "modified",
        is_binary=False,
        hunks=hunks,
        added=0 if removed else total,
        removed=total if removed else 0,
    )


def plan(
    *files: FileDiff, call: int = 60, review: int = 10_000, skip: dict[str, str] | None = None
) -> ChunkPlan:
    return plan_chunks(
        Diff(files), render=lines_only, call_tokens=call, review_tokens=review, skip=skip or {}
    )


def grouping(p: ChunkPlan) -> list[list[str]]:
    return [list(c.paths) for c in p.chunks]


def test_estimate_is_a_third_of_the_characters_rounded_up() -> None:
    assert [estimate_tokens("x" * n) for n in (0, 1, 3, 4, 6, 3_000)] == [0, 1, 1, 2, 2, 1_000]


PRIORITY = [
    ("app/migrations/versions/0003_add_orders.py", 0),
    ("app/api/orders.py", 1),
    ("app/services/auth_service.py", 1),
    ("src/main/java/JWTTokenStore.java", 1),
    ("config/rbac.yaml", 1),
    ("app/models/order.py", 2),
    ("app/services/billing.py", 3),
    ("app/services/author.py", 3),  # "author" is not "auth"
    ("app/text/tokenizer.py", 3),
    ("config/settings.yaml", 4),
    ("tests/test_auth.py", 5),  # a test of auth is still a test
    ("docs/security.md", 6),
]


@pytest.mark.parametrize(("path", "expected"), PRIORITY)
def test_review_priority(path: str, expected: int) -> None:
    assert review_priority(file(path, 1)) == expected


def test_files_are_planned_in_priority_then_path_order() -> None:
    files = [file(path, 1) for path, _ in PRIORITY]
    random.Random(7).shuffle(files)
    got = plan(*files, call=1_000)
    assert grouping(got) == [
        [
            "app/migrations/versions/0003_add_orders.py",
            "app/api/orders.py",
            "app/services/auth_service.py",
            "config/rbac.yaml",
            "src/main/java/JWTTokenStore.java",
            "app/models/order.py",
            "app/services/author.py",
            "app/services/billing.py",
            "app/text/tokenizer.py",
            "config/settings.yaml",
            "tests/test_auth.py",
            "docs/security.md",
        ]
    ]


def test_first_fit_packing_under_the_call_budget() -> None:
    got = plan(
        file("src/a.py", 3), file("src/b.py", 3), file("src/c.py", 2), file("src/d.py", 5),
        file("src/e.py", 1),
    )  # fmt: skip
    # a and b fill the first call; e goes back into the second call, which c left room in.
    assert grouping(got) == [["src/a.py", "src/b.py"], ["src/c.py", "src/e.py"], ["src/d.py"]]
    assert [c.tokens for c in got.chunks] == [60, 30, 50]
    assert got.tokens == 140
    assert got.not_reviewed == {}
    assert all(p.part == p.parts == 1 for c in got.chunks for p in c.parts)


def test_a_file_too_big_for_one_call_is_split_at_hunk_boundaries() -> None:
    big = file("src/big.py", 2, 3, 2, 4, 1, 3)  # 20 30 20 40 10 30 tokens
    got = plan(big)
    parts = [p for c in got.chunks for p in c.parts]
    assert [[h.new_start for h in p.hunks] for p in parts] == [[1, 101], [201, 301], [401, 501]]
    assert [(p.part, p.parts) for p in parts] == [(1, 3), (2, 3), (3, 3)]
    assert tuple(h for p in parts for h in p.hunks) == big.hunks
    assert [c.tokens for c in got.chunks] == [50, 60, 40]
    assert got.not_reviewed == {}


def test_split_parts_fit_when_the_renderer_numbers_them() -> None:
    big = file("src/big.py", *([3] * 40))
    got = plan_chunks(Diff((big,)), render=with_header, call_tokens=200, review_tokens=10**6)
    parts = [p for c in got.chunks for p in c.parts]
    assert len(parts) > 1
    assert [(p.part, p.parts) for p in parts] == [(i, len(parts)) for i in range(1, len(parts) + 1)]
    assert tuple(h for p in parts for h in p.hunks) == big.hunks
    for chunk in got.chunks:
        assert chunk.tokens == sum(estimate_tokens(with_header(p)) for p in chunk.parts) <= 200


def test_a_hunk_larger_than_one_call_is_listed_not_sent() -> None:
    got = plan(file("src/huge.py", 7, starts=(120,)), file("src/small.py", 1))
    assert grouping(got) == [["src/small.py"]]
    assert got.not_reviewed == {
        "src/huge.py": "hunk at new lines 120-126 is larger than one model call (~70 tokens > 60)"
    }


def test_the_other_hunks_of_that_file_are_sent_and_it_is_partly_reviewed() -> None:
    mixed = file("src/mixed.py", 2, 7, 1, starts=(10, 120, 300))
    got = plan(mixed)
    parts = [p for c in got.chunks for p in c.parts]
    assert [(p.hunks, p.part, p.parts) for p in parts] == [
        ((mixed.hunks[0],), 1, 2),
        ((mixed.hunks[2],), 2, 2),
    ]
    assert got.not_reviewed == {
        "src/mixed.py": "partly reviewed: hunk at new lines 120-126 is larger than one model call"
        " (~70 tokens > 60)"
    }


def test_removed_files_are_sent_and_their_oversized_hunks_cite_old_lines() -> None:
    got = plan(file("app/routes/old.py", 2, removed=True), file("src/gone.py", 7, removed=True))
    assert grouping(got) == [["app/routes/old.py"]]
    assert got.not_reviewed == {
        "src/gone.py": "hunk at old lines 1-7 is larger than one model call (~70 tokens > 60)"
    }


def test_the_review_budget_drops_the_lowest_priority_first() -> None:
    got = plan(
        file("docs/guide.md", 1),  # would still fit, but nothing is added after the stop
        file("tests/test_orders.py", 3),
        file("app/services/orders.py", 3),
        file("app/api/orders.py", 3),
        file("db/migrations/0002_orders.sql", 3),
        call=60,
        review=100,
    )
    sent = [path for c in got.chunks for path in c.paths]
    assert sent == ["db/migrations/0002_orders.sql", "app/api/orders.py", "app/services/orders.py"]
    reason = (
        "over the review's token budget (100 tokens: ~90 planned for the parts sent, "
        "2 file(s) left out in whole or in part)"
    )
    assert list(got.not_reviewed.items()) == [
        ("tests/test_orders.py", reason),
        ("docs/guide.md", reason),
    ]
    assert got.tokens == 90


def test_a_split_file_cut_by_the_review_budget_is_partly_reviewed() -> None:
    big = file("src/big.py", 5, 5, 5, 1, starts=(1, 100, 200, 300))
    got = plan(big, file("src/zzz.py", 1), review=120)
    assert [p.hunks for c in got.chunks for p in c.parts] == [big.hunks[:1], big.hunks[1:2]]
    budget = (
        "the review's token budget (120 tokens: ~100 planned for the parts sent, "
        "2 file(s) left out in whole or in part)"
    )
    assert got.not_reviewed == {
        "src/big.py": f"partly reviewed: new lines 200-300 over {budget}",
        "src/zzz.py": f"over {budget}",
    }


def test_skipped_and_hunkless_files_are_neither_sent_nor_listed() -> None:
    binary = FileDiff("logo.png", None, "added", True, (), 0, 0)
    got = plan(
        file("src/gen_pb2.py", 9),
        file("src/app.py", 1),
        binary,
        skip={"src/gen_pb2.py": "generated"},
    )
    assert grouping(got) == [["src/app.py"]]
    assert got.not_reviewed == {}


def test_same_input_same_plan_whatever_the_file_order() -> None:
    files = [file(f"src/m{i}.py", 1 + i % 4, 1 + i % 3) for i in range(30)]
    files += [file("src/huge.py", 2, 9), file("tests/test_m.py", 4)]
    shuffled = files[:]
    random.Random(3).shuffle(shuffled)
    first = plan(*files, review=700)
    assert plan(*shuffled, review=700) == first
    assert plan(*files, review=700) == first
    assert first.not_reviewed
    assert len(first.chunks) > 1


@pytest.mark.parametrize(("call", "review"), [(0, 100), (100, 0), (-1, 100)])
def test_budgets_must_be_positive(call: int, review: int) -> None:
    with pytest.raises(ValueError, match="tokens must be positive"):
        plan(file("src/a.py", 1), call=call, review=review)


def test_a_part_that_outgrows_its_numbering_is_listed_not_sent() -> None:
    """A renderer whose header exists only for 3 parts: the cut flips between 3 and 6 parts
    and never settles; the last cut, renumbered, no longer fits, so it is listed instead."""

    def jumpy(part: ChunkPart) -> str:
        return ("h" * 30 if part.parts == 3 else "") + lines_only(part)

    shaky = file("src/shaky.py", 2, 2, 2, 2, 2, 2, 5)  # 20 tokens a hunk, then one of 50
    got = plan_chunks(Diff((shaky,)), render=jumpy, call_tokens=40, review_tokens=1_000)
    assert got.chunks == ()
    reason = got.not_reviewed["src/shaky.py"]
    assert reason.startswith("part 1 of 3 is larger than one model call (~50 tokens > 40); ")
    assert reason.endswith(
        "hunk at new lines 601-605 is larger than one model call (~50 tokens > 40)"
    )


@st.composite
def budgets(draw: st.DrawFn) -> tuple[int, int]:
    return draw(st.integers(1, 120)), draw(st.integers(1, 600))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(diffs(max_files=6), budgets(), st.sampled_from([lines_only, with_header]), st.data())
def test_every_file_is_sent_or_listed_never_both_unless_partly(
    generated: tuple[str, object],
    limits: tuple[int, int],
    render: Callable[[ChunkPart], str],
    data: st.DataObject,
) -> None:
    diff = parse_diff(generated[0])
    skip = {p: "ignored" for p in data.draw(st.sets(st.sampled_from(diff.paths)))}
    call, review = limits
    got = plan_chunks(diff, render=render, call_tokens=call, review_tokens=review, skip=skip)

    sent: dict[str, list[ChunkPart]] = {}
    for chunk in got.chunks:
        assert chunk.parts, "no chunk is empty"
        assert chunk.tokens == sum(estimate_tokens(render(p)) for p in chunk.parts) <= call
        for part in chunk.parts:
            sent.setdefault(part.file.path, []).append(part)
    assert got.tokens == sum(c.tokens for c in got.chunks) <= review

    for f in diff.files:
        if f.path in skip or not f.hunks:
            assert f.path not in sent
            assert f.path not in got.not_reviewed
            continue
        listed = got.not_reviewed.get(f.path)
        assert (f.path in sent) or listed, f"{f.path} neither sent nor listed"
        if f.path in sent and listed:
            assert listed.startswith("partly reviewed: ")
        if f.path in sent:
            parts = sorted(sent[f.path], key=lambda p: p.part)
            assert [p.part for p in parts] == list(range(1, len(parts) + 1))
            hunks = [h for p in parts for h in p.hunks]
            positions = [f.hunks.index(h) for h in hunks]
            assert positions == sorted(set(positions)), "parts are ordered slices of the file"
            if not listed:
                assert tuple(hunks) == f.hunks
                assert parts[-1].parts == len(parts)


def test_non_latin_text_counts_by_its_bytes() -> None:
    assert estimate_tokens("abcdef") == 2
    # Three bytes a character in UTF-8: one token each, as CJK text runs near one a token.
    assert estimate_tokens("返金処理") == 4
    assert estimate_tokens("a\udcff") == 2  # a lone surrogate from undecodable input counts too
