"""The labelled corpus of bench/quality.py, held to its targets so it cannot rot."""

from __future__ import annotations

from app.review.rules import ALL_RULES
from bench.quality import (
    PRECISION_TARGET,
    RECALL_TARGET,
    below_target,
    load_cases,
    score,
)


def test_corpus_is_big_enough_and_covers_every_rule() -> None:
    cases = load_cases()
    assert len(cases) >= 30
    expected = {rule for case in cases for rule in case.expect}
    assert expected == {rule.id for rule in ALL_RULES}
    assert sum(1 for case in cases if not case.expect) >= 10  # clean look-alikes


def test_every_rule_meets_the_precision_and_recall_targets() -> None:
    scores = score(load_cases())
    failing = {
        rule: (round(s.precision, 2), round(s.recall, 2), s.misses)
        for rule, s in scores.items()
        if rule in below_target(scores)
    }
    assert failing == {}, f"targets: precision {PRECISION_TARGET}, recall {RECALL_TARGET}"


def test_fake_secrets_are_filled_in_before_review() -> None:
    case = next(c for c in load_cases() if c.name == "secret-github-token")
    assert "<<FAKE:" not in case.diff
