from __future__ import annotations

from app.review.findings import Severity, Source
from app.review.rules import RuleContext
from tests.review.rules.builders import added, of, review


def _files(n: int, prefix: str = "app/m") -> list[str]:
    return [added(f"{prefix}{i:02}.py", f"X = {i}\n") for i in range(n)]


def test_more_files_than_the_limit_is_one_finding_naming_the_count() -> None:
    found = of(review(*_files(16)), "change-too-large")
    assert len(found) == 1
    finding = found[0]
    assert finding.severity is Severity.MAJOR
    assert finding.source is Source.RULE
    assert "16 files" in finding.title
    assert "Split" in finding.recommendation
    assert finding.id.startswith("br-")


def test_at_the_limit_is_silent() -> None:
    assert of(review(*_files(15)), "change-too-large") == []


def test_ignored_files_are_listed_but_not_counted() -> None:
    lock = [added(f"pkg{i}/package-lock.json", "{}") for i in range(5)]
    assert of(review(*_files(14), *lock), "change-too-large") == []
    found = of(review(*_files(16), *lock), "change-too-large")
    assert "5 skipped" in found[0].evidence


def _renamed(n: int) -> list[str]:
    return [
        f"diff --git a/app/services/s{i}.py b/app/domain/s{i}.py\nsimilarity index 100%\n"
        f"rename from app/services/s{i}.py\nrename to app/domain/s{i}.py\n"
        for i in range(n)
    ]


def test_pure_renames_are_not_counted() -> None:
    # `git mv app/services app/domain`: 18 files and no line to review is one change.
    assert of(review(*_renamed(18)), "change-too-large") == []
    assert of(review(*_renamed(18), *_files(15)), "change-too-large") == []
    [found] = of(review(*_renamed(18), *_files(16)), "change-too-large")
    assert "16 files" in found.title
    assert "18 pure rename(s) or mode change(s) not counted" in found.evidence


def test_limit_and_ignores_come_from_the_context() -> None:
    assert of(review(*_files(4), ctx=RuleContext(max_files=3)), "change-too-large")
    ctx = RuleContext(max_files=3, ignore=("app/**",))
    assert of(review(*_files(4), ctx=ctx), "change-too-large") == []


def test_disabled_rule_does_not_run() -> None:
    ctx = RuleContext(disabled=frozenset({"change-too-large"}))
    assert of(review(*_files(20), ctx=ctx), "change-too-large") == []


def test_id_does_not_change_when_more_files_are_added() -> None:
    first = of(review(*_files(16)), "change-too-large")[0]
    second = of(review(*_files(18)), "change-too-large")[0]
    assert first.id == second.id
