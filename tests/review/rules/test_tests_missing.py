from __future__ import annotations

from app.review.findings import Severity
from tests.review.rules.builders import added, modified, of, review


def test_source_without_test_change() -> None:
    found = of(
        review(modified("app/billing.py", " def f():\n-    return 1\n+    return 2\n")),
        "tests-missing",
    )
    assert [(f.severity, f.where.path, f.where.lines) for f in found] == [
        (Severity.MINOR, "app/billing.py", None)
    ]


def test_a_test_change_silences_it() -> None:
    diff = modified("app/billing.py", "+    return 2\n") + added(
        "tests/test_billing.py", "def test(): ..."
    )
    assert of(review(diff), "tests-missing") == []


def test_docs_config_comments_and_imports_do_not_need_tests() -> None:
    assert of(review(modified("README.md", "+more words\n")), "tests-missing") == []
    assert of(review(modified("config/app.yaml", "+a: 1\n")), "tests-missing") == []
    assert (
        of(review(modified("app/billing.py", "+# why this is so\n+import os\n")), "tests-missing")
        == []
    )
    assert of(review(added("package-lock.json", "{}")), "tests-missing") == []
