"""Linked Linear issues found in a pull request, which of them are read, and their criteria."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.review.criteria import MAX_CRITERIA, MAX_CRITERION_CHARS, acceptance_criteria
from app.review.tickets import (
    FALSE_FRIENDS,
    MAGIC_WORDS,
    MAX_ISSUES_PER_PR,
    IssueRef,
    accept_refs,
    candidate_refs,
    find_issue_refs,
)

Seen = tuple[str, tuple[str, ...], str | None]  # identifier, sources, magic


def refs_in(
    *, branch: str = "", title: str = "", body: str = "", commits: tuple[str, ...] = ()
) -> list[Seen]:
    found = find_issue_refs(branch=branch, title=title, body=body, commits=commits)
    return [(ref.identifier, ref.sources, ref.magic) for ref in found]


def ref(identifier: str, *sources: str, magic: str | None = None) -> IssueRef:
    team, number = identifier.split("-")
    return IssueRef(identifier, team, int(number), sources, magic)  # type: ignore[arg-type]


# Where a pull request carries a link ----------------------------------------------------------


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("eng-123-add-refunds", "ENG-123"),  # Linear's default branch format
        ("jdoe/eng-123-add-refunds", "ENG-123"),  # ... with the user-name prefix
        ("feature/ENG-123-something", "ENG-123"),
        ("ENG-123", "ENG-123"),
        ("eng-123_add_refunds", "ENG-123"),
        ("chrisoneil/v2-1161-make-the-prs-linear-link", "V2-1161"),  # a key with a digit
        ("add-refunds-eng-123", "ENG-123"),
    ],
)
def test_branch_names(branch: str, expected: str) -> None:
    assert refs_in(branch=branch) == [(expected, ("branch",), None)]


@pytest.mark.parametrize(
    "branch",
    [
        "main",
        "dependabot/npm_and_yarn/lodash-4.17.21",  # a version, not an issue
        "renovate/node-20.x",
        "release-2024-05",
        "eng-0-start",
        "fix/engineering-12",  # 11 letters: no team key is that long
        "eng-12345678-huge",
    ],
)
def test_branch_names_without_an_issue(branch: str) -> None:
    assert refs_in(branch=branch) == []


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("[ENG-123] Add refunds", "ENG-123"),
        ("ENG-123: add refunds", "ENG-123"),
        ("Add refunds (ENG-123)", "ENG-123"),
        ("Add refunds for ENG-123's customers", "ENG-123"),
    ],
)
def test_titles(title: str, expected: str) -> None:
    assert refs_in(title=title) == [(expected, ("title",), None)]


def test_body_and_commit_mentions() -> None:
    assert refs_in(body="Context is in ENG-123, see there.") == [("ENG-123", ("body",), None)]
    assert refs_in(commits=("wip", "ENG-124 add the refund table")) == [
        ("ENG-124", ("commit",), None)
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("https://linear.app/acme/issue/ENG-123/add-refunds", "ENG-123"),
        ("https://linear.app/acme/issue/ENG-123", "ENG-123"),
        ("Spec: https://linear.app/acme/issue/ENG-123.", "ENG-123"),  # sentence's full stop
        ("(https://linear.app/acme/issue/ENG-123/add-refunds)", "ENG-123"),
        ("<https://linear.app/acme/issue/ENG-123/add-refunds#comment-1a2b>", "ENG-123"),
        ("https://linear.app/my-team.io/issue/eng-123/add-refunds", "ENG-123"),
        ("http://linear.app/acme/issue/ENG-123/add-refunds?x=1", "ENG-123"),
    ],
)
def test_linear_urls(body: str, expected: str) -> None:
    assert refs_in(body=body) == [(expected, ("url",), None)]
    assert refs_in(commits=(f"see {body}",)) == [(expected, ("url",), None)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Fixes ENG-123", [("ENG-123", "fixes")]),
        ("fixes: ENG-123", [("ENG-123", "fixes")]),
        ("CLOSES ENG-123", [("ENG-123", "closes")]),
        ("Resolving ENG-123", [("ENG-123", "resolving")]),
        ("Implements ENG-123", [("ENG-123", "implements")]),
        ("Linear issue: ENG-123", [("ENG-123", "linear issue")]),
        ("This is part of ENG-123", [("ENG-123", "part of")]),
        ("Part  of ENG-123", [("ENG-123", "part of")]),
        ("Refs ENG-123", [("ENG-123", "refs")]),
        ("Related to ENG-123", [("ENG-123", "related to")]),
        ("Contributes to: ENG-123", [("ENG-123", "contributes to")]),
        ("Fixes: ENG-1, ENG-2", [("ENG-1", "fixes"), ("ENG-2", "fixes")]),
        (
            "Fixes ENG-123, DES-5, and ENG-256",  # Linear's own example
            [("ENG-123", "fixes"), ("DES-5", "fixes"), ("ENG-256", "fixes")],
        ),
        ("Closes ENG-1 & ENG-2 and ENG-3", [(f"ENG-{n}", "closes") for n in (1, 2, 3)]),
        ("Fixes ENG-1 ENG-2", [("ENG-1", "fixes"), ("ENG-2", "fixes")]),
        # The list ends with its line, and with any word that is not `and`.
        ("Fixes ENG-1,\nENG-2", [("ENG-1", "fixes"), ("ENG-2", None)]),
        ("Fixes ENG-1 then ENG-2", [("ENG-1", "fixes"), ("ENG-2", None)]),
        ("Prefixes ENG-1", [("ENG-1", None)]),  # the word is inside another word
    ],
)
def test_magic_words(body: str, expected: list[tuple[str, str | None]]) -> None:
    assert refs_in(body=body) == [(i, ("body",), magic) for i, magic in expected]


def test_magic_words_with_urls_links_and_in_commits() -> None:
    assert refs_in(body="Fixes https://linear.app/acme/issue/ENG-9/title") == [
        ("ENG-9", ("url",), "fixes")
    ]
    assert refs_in(body="Fixes [ENG-9](https://linear.app/acme/issue/ENG-9/title)") == [
        ("ENG-9", ("body", "url"), "fixes")
    ]
    assert refs_in(commits=("Add the refund table\n\nPart of: ENG-9",)) == [
        ("ENG-9", ("commit",), "part of")
    ]
    assert refs_in(title="Fixes ENG-9: refunds") == [("ENG-9", ("title",), "fixes")]


def test_every_documented_magic_word_is_recognised() -> None:
    for word in MAGIC_WORDS:
        assert refs_in(body=f"{word.title()} ENG-1") == [("ENG-1", ("body",), word)], word


# What is not a link -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Tracked upstream as CVE-2024-1234",
        "Fixes CVE-2024-1234",  # a magic word does not make a CVE id an issue id
        "ENG-0 is not an issue",
        "ENG-0123 has a leading zero",
        "eng-12 in prose is too often something else",
        "order ENG-1234567890123",
        "ENG-123abc",
        "v ENG-1.2",
        "AENGINEERS-1",
        "```\nTraceback: ENG-12 failed\n```",
        "~~~text\nENG-12\n~~~",
        "  ```python\n  x = 'ENG-12'\n  ```",
        "```\nunclosed fence ENG-12",
        "see `ENG-12` here",
        "see ``ENG-12 `x` `` here",
        "<!-- Fixes ENG-12 (template hint) -->",
        "https://jira.example.com/browse/ENG-12",
        "Fixes https://jira.example.com/browse/ENG-12",
        "https://linear.app.evil.example/acme/issue/ENG-12",
        "https://example.com/?next=https://linear.app/acme/issue/ENG-12",
        "https://linear.app/acme/project/ENG-12-refunds",
        "https://linear.app/acme/issue/ENG-12abc",
    ],
)
def test_texts_without_a_link(text: str) -> None:
    assert refs_in(title=text.splitlines()[0], body=text, commits=(text,)) == []


@pytest.mark.parametrize(
    "text",
    [
        "Hash with SHA-256",
        "Read it as UTF-8",
        "Dates are ISO-8601",
        "Cookies per RFC-6265",
        "Upgrade to TLS-13",
        "Answers come from GPT-4",
        "See PEP-8",
        "As in GH-1234",
        "x509 is X-509",
    ],
)
def test_false_friends_never_reach_linear(text: str) -> None:
    found = find_issue_refs(branch="", title=text, body=text, commits=[text])
    assert found  # it looks like an identifier ...
    assert candidate_refs(found) == []  # ... but nobody asks Linear about it


def test_a_pull_request_mentioning_only_false_friends_has_no_candidates() -> None:
    found = find_issue_refs(
        branch="fix/sha-256-hashing",
        title="Use SHA-256 and UTF-8",
        body="Timestamps are ISO-8601; the advisory is CVE-2024-1234.",
        commits=["Switch to SHA-256", "UTF-8 everywhere"],
    )
    assert candidate_refs(found) == []


def test_a_longer_key_is_another_team() -> None:
    found = find_issue_refs(branch="", title="", body="XENG-12 and ENG-12X", commits=[])
    assert [r.identifier for r in found] == ["XENG-12"]
    assert accept_refs(candidate_refs(found), {"ENG"}) == ([], [])


def test_explicit_false_friends_are_kept() -> None:
    found = find_issue_refs(
        branch="",
        title="",
        body="Fixes CVE-12\nsee https://linear.app/acme/issue/SHA-3/x\nSHA-256",
        commits=[],
    )
    assert [r.identifier for r in candidate_refs(found)] == ["CVE-12", "SHA-3"]
    assert "CVE" in FALSE_FRIENDS
    assert accept_refs(candidate_refs(found), {"CVE", "SHA"})[0] == candidate_refs(found)


# Order and de-duplication -------------------------------------------------------------------


def test_explicit_references_come_first_then_order_of_appearance() -> None:
    assert refs_in(
        branch="jdoe/eng-7-refunds",
        title="Refunds (ENG-3)",  # Linear links a pull request by an id in its title
        body="Background in ENG-5 and ENG-6.\n\nFixes ENG-9\nhttps://linear.app/a/issue/OPS-2/x",
        commits=("ENG-4 table", "Part of ENG-8"),
    ) == [
        ("ENG-7", ("branch",), None),
        ("ENG-3", ("title",), None),
        ("ENG-9", ("body",), "fixes"),
        ("OPS-2", ("url",), None),
        ("ENG-8", ("commit",), "part of"),
        ("ENG-5", ("body",), None),
        ("ENG-6", ("body",), None),
        ("ENG-4", ("commit",), None),
    ]


def test_one_reference_per_issue_with_every_place_it_was_seen() -> None:
    assert refs_in(
        branch="eng-1-refunds",
        title="[ENG-1] Refunds",
        body="ENG-2 first. https://linear.app/a/issue/ENG-1/x and Closes ENG-1, ENG-2",
        commits=("ENG-1 table", "eng-1 lower-case in prose"),
    ) == [
        ("ENG-1", ("branch", "title", "url", "body", "commit"), "closes"),
        ("ENG-2", ("body",), "closes"),  # its magic word came at its second sighting
    ]


def test_ignore_and_skip_unlink_an_issue_even_from_the_branch() -> None:
    assert refs_in(branch="eng-1-x", body="Ignore ENG-1\nskip: ENG-2, ENG-3\nENG-4 ENG-2") == [
        ("ENG-4", ("body",), None)
    ]
    # Linear reads them in the description only: a commit's `skip` links nothing, unlinks nothing.
    assert refs_in(branch="eng-1-x", commits=("skip ENG-1 in the flaky test",)) == [
        ("ENG-1", ("branch",), None)
    ]


# Which references are read ------------------------------------------------------------------


def test_accepts_the_workspace_teams_case_insensitively() -> None:
    refs = [ref("ENG-1", "branch"), ref("API-3", "body"), ref("DES-2", "title")]
    assert accept_refs(refs, ["eng", "Des"]) == ([refs[0], refs[2]], [])


def test_a_deliberate_link_to_an_unknown_team_is_noted() -> None:
    refs = [ref("FOO-1", "body", magic="fixes"), ref("BAR-2", "url"), ref("BAZ-3", "body")]
    accepted, notes = accept_refs(refs, {"ENG"})
    assert accepted == []
    assert notes == [
        "`FOO-1` is linked but this Linear workspace has no team `FOO`",
        "`BAR-2` is linked but this Linear workspace has no team `BAR`",
    ]


@pytest.mark.parametrize(
    ("count", "note"),
    [
        (MAX_ISSUES_PER_PR, None),
        (MAX_ISSUES_PER_PR + 1, "1 more linked issue not read (at most 5 per pull request)"),
        (MAX_ISSUES_PER_PR + 3, "3 more linked issues not read (at most 5 per pull request)"),
    ],
)
def test_at_most_five_issues_are_read(count: int, note: str | None) -> None:
    refs = [ref(f"ENG-{n}", "body") for n in range(1, count + 1)] + [ref("API-1", "body")]
    accepted, notes = accept_refs(refs, {"ENG"})
    assert accepted == refs[:MAX_ISSUES_PER_PR]
    assert notes == ([note] if note else [])


def test_the_limit_can_be_changed() -> None:
    refs = [ref("ENG-1", "body"), ref("ENG-2", "body")]
    assert accept_refs(refs, {"ENG"}, limit=0) == (
        [],
        ["2 more linked issues not read (at most 0 per pull request)"],
    )
    with pytest.raises(ValueError, match="negative"):
        accept_refs(refs, {"ENG"}, limit=-1)


# Acceptance criteria ------------------------------------------------------------------------

_LIST = "- Refunds are idempotent\n- [ ] The webhook retries\n* [x] Docs updated\n"


@pytest.mark.parametrize(
    "heading",
    [
        *(f"{'#' * level} Acceptance criteria" for level in range(1, 7)),
        "## Acceptance Criteria ##",
        "## ✅ Acceptance criteria:",
        "### AC",
        "## Definition of Done",
        "## **Acceptance criteria**",
        "**Acceptance criteria**",
        "**Acceptance criteria:**",
        "**Acceptance Criteria**:",
        "__AC__",
        "Acceptance criteria:",
        "AC:",
        "Definition of done:",
    ],
)
def test_criteria_under_each_heading_style(heading: str) -> None:
    description = f"Some context.\n- [ ] not a criterion\n\n{heading}\n{_LIST}"
    assert acceptance_criteria(description) == (
        "Refunds are idempotent",
        "The webhook retries",
        "Docs updated",
    )


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        (  # ends at a heading of the same level, not at a deeper one
            "## AC\n- a\n### Backend\n1. b\n2) c\n## Notes\n- not this\n",
            ("a", "b", "c"),
        ),
        ("## AC\n- a\n# Title\n- not this\n", ("a",)),
        ("**AC**\n- a\n**Notes**\n- not this\n", ("a",)),
        ("**AC**\n- a\n### Notes\n- not this\n", ("a",)),
        ("AC:\nThe following must hold:\n\n- a\n- b\nOut of scope:\n- not this\n", ("a", "b")),
        ("AC:\n- a\n\n- b\n\nA paragraph after the list.\n- not this\n", ("a", "b")),
        ("## AC\n- a\n\nA paragraph inside the section.\n- b\n", ("a", "b")),
        ("## AC\n- [ ] a\n## Definition of done\n- b\n", ("a", "b")),  # both sections
    ],
)
def test_where_a_criteria_section_ends(description: str, expected: tuple[str, ...]) -> None:
    assert acceptance_criteria(description) == expected


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        (  # nested items fold into their parent
            "## AC\n- Refund endpoint\n  - returns 201\n  - is idempotent:\n"
            "    - keyed by the request id\n- Audit log\n",
            ("Refund endpoint: returns 201; is idempotent: keyed by the request id", "Audit log"),
        ),
        (  # continuation lines, lazy or indented, join their item; whitespace collapses
            "## AC\n- The   refund\ncontinues here\n\n  and in a second paragraph\n- [ ]   b\n",
            ("The refund continues here and in a second paragraph", "b"),
        ),
        ("## AC\n- [ ]\n  - only the children\n", ("only the children",)),
        ("## AC\n-\n- [ ] \n- a\n", ("a",)),  # empty items are skipped
        ("## AC\n* * *\n- a\n", ("a",)),  # a rule is not an item
        ("## AC\n\tworded\n-\tReal item\n", ("Real item",)),
    ],
)
def test_criterion_text(description: str, expected: tuple[str, ...]) -> None:
    assert acceptance_criteria(description) == expected


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        (
            "Plan\n- [ ] endpoint\n- [x] migration\n* [ ] docs\n+ [X] changelog\n- context\n",
            ("endpoint", "migration", "docs", "changelog"),
        ),
        (  # a task under a plain item stands alone; items under a task fold into it
            "- Backend\n  - [ ] endpoint\n    - returns 201\n  - [x] migration\n",
            ("endpoint: returns 201", "migration"),
        ),
        ("## Acceptance criteria\nThe refund is idempotent.\n\n- [ ] a task\n", ("a task",)),
        ("## Notes\n- [ ] a task elsewhere\n", ("a task elsewhere",)),
    ],
)
def test_task_lists_when_there_is_no_criteria_section(
    description: str, expected: tuple[str, ...]
) -> None:
    assert acceptance_criteria(description) == expected


@pytest.mark.parametrize(
    "description",
    [
        "",
        "Just a paragraph about refunds.",
        "- a plain list\n- with no heading\n",
        "## Acceptance criteria\n",
        "```md\n## Acceptance criteria\n- [ ] inside a code block\n```\n",
        "## Criteria\n- not the heading we read\n",
        "[ ] not a list item\n",
    ],
)
def test_no_criteria(description: str) -> None:
    assert acceptance_criteria(description) == ()


def test_code_blocks_hide_headings_but_not_the_criteria_after_them() -> None:
    description = "```bash\n# AC\n- rm -rf /\n```\n## AC\n- a\n```\n## Notes\n```\n- b\n"
    assert acceptance_criteria(description) == ("a", "b")


def test_a_huge_description_is_capped() -> None:
    description = "## AC\n" + "".join(f"- criterion {n} {'x' * 2_000}\n" for n in range(5_000))
    criteria = acceptance_criteria(description)
    assert len(criteria) == MAX_CRITERIA
    assert criteria[0].startswith("criterion 0 x")
    assert all(len(c) == MAX_CRITERION_CHARS and c.endswith("…") for c in criteria)
    assert criteria[-1].startswith(f"criterion {MAX_CRITERIA - 1} ")


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    description = "## AC\n" + "".join(f"{' ' * depth}- level {depth}\n" for depth in range(3_000))
    (criterion,) = acceptance_criteria(description)
    assert criterion.startswith("level 0: level 1: level 2")
    assert len(criterion) == MAX_CRITERION_CHARS


# Whatever the text, the answers keep their shape ----------------------------------------------

_IDENTIFIER = re.compile(r"[A-Z][A-Z0-9]{0,6}-[1-9][0-9]{0,6}")
_TEXT = st.text(alphabet=st.sampled_from(list("ENGeng-_/#*`[]() :,\n0123456789xX.~<!>")))


@settings(max_examples=300, deadline=None)
@given(branch=_TEXT, title=_TEXT, body=_TEXT, commits=st.lists(_TEXT, max_size=3))
def test_any_text_gives_well_formed_refs(
    branch: str, title: str, body: str, commits: list[str]
) -> None:
    found = find_issue_refs(branch=branch, title=title, body=body, commits=commits)
    assert len({r.identifier for r in found}) == len(found)
    for r in found:
        assert _IDENTIFIER.fullmatch(r.identifier)
        assert r.identifier == f"{r.team}-{r.number}"
        assert r.sources
        assert len(set(r.sources)) == len(r.sources)
        assert r.magic is None or r.magic in MAGIC_WORDS
    explicit = [r.explicit for r in found]
    assert explicit == sorted(explicit, reverse=True)


@settings(max_examples=300, deadline=None)
@given(description=st.text(alphabet=st.sampled_from(list("#*-_+[]xX 1.):\n\tACac`~>"))))
def test_any_description_gives_bounded_criteria(description: str) -> None:
    criteria = acceptance_criteria(description)
    assert len(criteria) <= MAX_CRITERIA
    for criterion in criteria:
        assert criterion
        assert len(criterion) <= MAX_CRITERION_CHARS
        assert criterion == criterion.strip()
        assert "\n" not in criterion
