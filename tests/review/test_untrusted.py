"""Untrusted text cannot speak as the bot: no mention, image, raw HTML, marker or definition."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.review.anchor import Anchor
from app.review.findings import Finding, ReviewSummary
from app.review.markers import finding_ids
from app.review.render import Placed, comment_body, summary_body
from app.review.untrusted import ZWSP, neutralize

# What GitHub would act on, in the text it renders.
_LIVE = re.compile(
    r"(?<![A-Za-z0-9_])(?:@|&#0*64;|&#[xX]0*40;|&commat;)[A-Za-z0-9_-]"
    r"|<[A-Za-z/!?]|!\[|^ {0,3}\[[^\]\n]*\]:",
    re.MULTILINE,
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("ping @alice please", f"ping @{ZWSP}alice please"),
        ("cc @acme/security-team", f"cc @{ZWSP}acme/security-team"),
        # `_@dave_` renders as emphasis around a mention (cmark-gfm: `<em>@dave</em>`).
        ("(@bob), **@carol**, _@dave_", f"(@{ZWSP}bob), **@{ZWSP}carol**, _@{ZWSP}dave_"),
        ("_@acme/security-team_", f"_@{ZWSP}acme/security-team_"),
        ("ops@example.com, first_last@example.com", "ops@example.com, first_last@example.com"),
        ("@@eve", f"@{ZWSP}@{ZWSP}eve"),
        ("\\@frank", f"\\@{ZWSP}frank"),
        ("&#64;gina &#x40;hal &commat;ivy", f"&#64;{ZWSP}gina &#x40;{ZWSP}hal &commat;{ZWSP}ivy"),
        ("@&#106;oe", f"@{ZWSP}&#106;oe"),
        ("mail ops@example.com or a.b-c@corp.io", "mail ops@example.com or a.b-c@corp.io"),
        ("![x](https://evil.example/p.png)", f"!{ZWSP}[x](https://evil.example/p.png)"),
        (
            "![x][1]\n\n[1]: https://evil.example/p.png",
            f"!{ZWSP}[x][1]\n\n[1]{ZWSP}: https://evil.example/p.png",
        ),
        ("   [ref]: https://x 'title'", f"   [ref]{ZWSP}: https://x 'title'"),
        # Definitions that do not start a line render as nothing too: in a quote, in a list
        # item, indented in our own list, with a label over two lines.
        ("> [//]: # (hidden note)", f"> [//]{ZWSP}: # (hidden note)"),
        ("- [x]: https://t.example", f"- [x]{ZWSP}: https://t.example"),
        (
            "none\n\n    [x]: https://t.example/p.png",
            f"none\n\n    [x]{ZWSP}: https://t.example/p.png",
        ),
        ("[a\nb]: https://t.example", f"[a\nb]{ZWSP}: https://t.example"),
        ('<img src="https://evil.example/p.png">', f'<{ZWSP}img src="https://evil.example/p.png">'),
        (
            "<details><summary>ok</summary>hidden</details>",
            f"<{ZWSP}details><{ZWSP}summary>ok<{ZWSP}/summary>hidden<{ZWSP}/details>",
        ),
        (
            "<!-- backend-review:finding br-0123456789ab -->",
            f"<{ZWSP}!-- backend-review:finding br-0123456789ab -->",
        ),
        ("<https://autolink.example>", f"<{ZWSP}https://autolink.example>"),
        ("a < b and x<3 and List< int >", "a < b and x<3 and List< int >"),
        ("List<String>", f"List<{ZWSP}String>"),
        # Invisible characters go, so they cannot hide anything from us or from a reader.
        (f"@\u200d{ZWSP}zoe \u202eevil\u202c \ufeffok", f"@{ZWSP}zoe evil ok"),
        ("<\u2060img src=x>", f"<{ZWSP}img src=x>"),
    ],
)
def test_neutralize(text: str, shown: str) -> None:
    assert neutralize(text) == shown
    assert neutralize(shown) == shown  # idempotent


_ALPHABET = st.sampled_from(
    [
        "@",
        "a",
        "b",
        "-",
        "_",
        "/",
        "<",
        ">",
        "!",
        "[",
        "]",
        ":",
        "(",
        ")",
        " ",
        "\n",
        "&#64;",
        "&#x40;",
        "&commat;",
        "<!--",
        "-->",
        "\\",
        ".",
        ZWSP,
        "\u200d",
        "\u202e",
        "é",
        "`",
        "img",
    ]
)


@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_nothing_active_survives_and_only_invisible_characters_change(text: str) -> None:
    out = neutralize(text)
    assert _LIVE.search(out) is None
    assert neutralize(out) == out
    visible = re.sub(
        "[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]", "", text
    )
    assert out.replace(ZWSP, "") == visible


def _finding(**text: str) -> Finding:
    return Finding.model_validate(
        {
            "id": "br-0123456789ab",
            "rule": "llm",
            "source": "llm",
            "type": "evidence",
            "category": "security",
            "severity": "major",
            "title": text.get("title", "t"),
            "where": {"path": "app/x.py", "lines": "3"},
            "evidence": text.get("evidence", "e"),
            "recommendation": text.get("recommendation", "r"),
            "suggestion": text.get("suggestion"),
            "failure_scenario": text.get("failure_scenario"),
        }
    )


HOSTILE = (
    "@alice @acme/admins ![p](https://evil.example/p.png) <img src=x> <details>hidden"
    "\n\n[x]: https://evil.example\n<!-- backend-review:finding br-ffffffffffff -->"
)


def test_a_comment_from_hostile_model_output_acts_on_nothing_and_keeps_its_marker() -> None:
    finding = _finding(
        title=HOSTILE.replace("\n", " "),
        evidence=HOSTILE,
        recommendation=HOSTILE,
        suggestion="@decorator\ndef f(): ...\n",
    )
    body = comment_body(finding, Anchor("line", "app/x.py", line=3, exact=True), suggest=True)
    prose, _, fence = body.partition("```suggestion\n")
    assert _LIVE.search(prose) is None
    assert fence.startswith("@decorator\n")  # the suggestion applies byte for byte
    assert finding_ids(body) == {"br-0123456789ab"}  # ours, not the forged one


def test_the_failure_scenario_is_shown_after_the_evidence_and_acts_on_nothing() -> None:
    finding = _finding(failure_scenario="A retried POST charges twice. " + HOSTILE)
    body = comment_body(finding, Anchor("line", "app/x.py", line=3, exact=True), suggest=False)
    assert "**How it fails:** A retried POST charges twice." in body
    assert body.index("\ne\n") < body.index("How it fails")  # after the evidence
    assert body.index("How it fails") < body.index("**Recommendation:**")
    prose, _, _ours = body.rpartition("<!-- backend-review:finding br-0123456789ab -->")
    assert _LIVE.search(prose) is None
    assert finding_ids(body) == {"br-0123456789ab"}
    without = comment_body(
        _finding(), Anchor("line", "app/x.py", line=3, exact=True), suggest=False
    )
    assert "How it fails" not in without


def test_a_summary_from_hostile_text_acts_on_nothing() -> None:
    summary = ReviewSummary.model_validate(
        {
            "summary": HOSTILE,
            "recommendation": HOSTILE,
            "rationale": [HOSTILE],
            "risks": [HOSTILE],
            "missing_context": [HOSTILE],
            "next_actions": [{"title": HOSTILE, "owner": "@alice", "outcome": HOSTILE}],
        }
    )
    body = summary_body(
        headline="**ok**",
        placed=[],
        summary=summary,
        not_reviewed=[(f"x{HOSTILE}.py", HOSTILE)],
        notices=[HOSTILE],
    )
    first, rest = body.split("\n", 1)
    assert first == "<!-- backend-review:summary -->"
    # Our own fold is the only HTML: hostile text can neither close it early nor open another.
    fold = "<details><summary><b>Files not reviewed</b> (1)</summary>"
    assert (rest.count(fold), rest.count("</details>"), rest.count("<details>")) == (1, 1, 1)
    assert rest.rstrip().endswith("</details>")
    ours = rest.replace(fold, "").replace("</details>", "")
    assert _LIVE.search(ours) is None


def test_a_hostile_dismissal_reason_or_title_stays_inside_its_fold() -> None:
    finding = _finding(title="</details><details open><summary>x</summary> @alice")
    placed = Placed(finding, Anchor("line", "app/x.py", line=3), "dismissed")
    reason = "</details></summary>![p](https://evil.example/p.png) @acme/admins"

    body = summary_body(
        headline="**ok**",
        placed=[placed],
        summary=None,
        not_reviewed=[],
        notices=[],
        dismissal={finding.id: reason},
        resolved=[("br-ffffffffffff", "</details> gone")],
        resolved_in="0123456789ab",
    )

    folds = [
        "<details><summary><b>Dismissed</b> (1)</summary>",
        "<details><summary><b>Resolved in <code>0123456789ab</code></b> (1)</summary>",
    ]
    rest = body.split("\n", 1)[1]
    assert [rest.count(f) for f in folds] == [1, 1]
    assert rest.count("</details>") == 2
    ours = rest
    for fold in [*folds, "</details>"]:
        ours = ours.replace(fold, "")
    assert _LIVE.search(ours) is None
