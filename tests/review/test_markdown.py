"""Headings and fences as the core reads them in personas, Linear issues and PR bodies."""

from __future__ import annotations

import pytest

from app.review.criteria import acceptance_criteria
from app.review.markdown import atx_heading, in_fence


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        ("# Title", (1, "Title")),
        ("###### Deep", (6, "Deep")),
        ("## Closing hashes ##", (2, "Closing hashes")),
        ("## Title   ", (2, "Title")),
        ("## C#", (2, "C#")),
        ("#", (1, "")),
        ("   # Indented", (1, "Indented")),
        ("    # Code, not a heading", None),
        ("####### Seven", None),
        ("#NoSpace", None),
        ("text", None),
    ],
)
def test_atx_headings(line: str, heading: tuple[int, str] | None) -> None:
    assert atx_heading(line) == heading


def test_a_huge_run_of_blanks_in_a_heading_is_read() -> None:
    # The old pattern backtracked over the blanks: 2.8 s at 16k characters, minutes at 60k.
    assert atx_heading("# a" + " " * 60_000 + "b") == (1, "a" + " " * 60_000 + "b")
    description = "# a" + " " * 60_000 + "b\n\n## Acceptance criteria\n- Refunds are audited\n"
    assert acceptance_criteria(description) == ("Refunds are audited",)


def test_fences_mark_their_lines_including_quoted_and_unclosed_ones() -> None:
    lines = ["text", "```py", "# not a heading", "```", "> ~~~", "> code", "> ~~~", "```", "open"]
    assert in_fence(lines) == [False, True, True, True, True, True, True, True, True]
