"""Every regular expression in app/review runs in time linear in its input.

`bench/regex_audit.py` finds the patterns (module constants, anything reachable from them, and
every `re.*` call in the source) and builds hostile inputs from each pattern's own pieces. The
gate compares CPU time at n and 8n characters (up to 1 MB): about 8x when linear, 64x when
quadratic. No wall-clock limit: a ratio of two measurements on the same machine, each the
minimum of several runs, and a superlinear verdict is measured again before it fails.
"""

from __future__ import annotations

import re

import pytest

from bench import regex_audit as audit

SUBJECTS = audit.subjects()


def test_no_pattern_is_hidden_from_the_audit() -> None:
    """A pattern built at run time, or `re` reached another way, would escape the gate."""
    assert audit.source_problems() == []


def test_the_audit_finds_patterns_every_way_they_are_held() -> None:
    names = {w for s in SUBJECTS for w in s.where}
    assert "app.review.rules.secrets._PATTERNS[0].regex" in names  # inside dataclasses
    assert "app.review.markdown._ATX" in names  # a module constant
    assert any(w.startswith("app.review.rules.authz:") for w in names)  # a call's literal
    assert any("_folded_regex" in w for w in names)  # built at run time, from DYNAMIC
    assert len(SUBJECTS) > 100


def test_a_pattern_built_at_run_time_is_reported(tmp_path: pytest.TempPathFactory) -> None:
    """The source scan is what makes an unseen pattern impossible: prove it sees one."""
    problems = audit.source_problems("tests.review.regex_fixture")
    assert len(problems) == 2
    assert any("re.search() with a pattern built at run time in lookup" in p for p in problems)
    assert any("`from re import`" in p for p in problems)
    found = {s.pattern.pattern for s in audit.subjects("tests.review.regex_fixture")}
    assert found == {"held", "in-a-tuple", "called"}


@pytest.mark.parametrize(
    ("pattern", "fullmatch"),
    [
        (r"(a+)+$", False),  # the textbook case
        (r"^(return\s*;?|//.*|\s)*$", False),  # the knex down() reader before the fix
        (r"@\w*\.?(\w*auth\w*_required|requires)\b", False),  # the decorator guard before
        (r"[\s\"']*[A-Za-z0-9+/=]{40,}[\s\"',\\n]*", True),  # the PEM body line before
        (r"\b(sk-[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,})", False),  # the OpenAI key before
        (r"(?:^|/)[^/]*changelog[^/]*\.xml$", False),  # two runs over one path component
    ],
)
def test_the_gate_fails_superlinear_patterns(pattern: str, fullmatch: bool) -> None:
    """Screening times each shape once at a small size, where a quadratic shape costs only a
    few times more than a linear one: on a loaded machine the screen can rank a linear shape
    first. So three shapes are kept and the measurement is repeated while it looks linear, as
    the gate repeats it while it looks superlinear. A linear pattern stays near 8 every time."""
    subject = audit.Subject(re.compile(pattern), ["known bad"], fullmatch)
    ratios = []
    for _ in range(3):
        ratios.append(audit.worst(subject, keep=3, runs=1).ratio)
        if ratios[-1] > audit.LINEAR_RATIO:
            break
    assert max(ratios) > audit.LINEAR_RATIO, ratios


@pytest.mark.slow
@pytest.mark.parametrize("subject", SUBJECTS, ids=[s.name for s in SUBJECTS])
def test_pattern_work_grows_linearly(subject: audit.Subject) -> None:
    result = audit.linear(subject)
    assert result.ratio <= audit.LINEAR_RATIO, f"{subject.pattern.pattern!r}: {result}"
