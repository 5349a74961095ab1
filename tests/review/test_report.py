"""Output formats of a plan: SARIF details that code scanning relies on."""

from __future__ import annotations

import json

from app.review.diff import parse_diff
from app.review.findings import Finding, Severity, fingerprint
from app.review.plan import PlanInput, ReviewPlan, build_plan
from app.review.repo_config import RepoConfig
from app.review.report import as_sarif, as_text


def test_sarif_uri_is_a_percent_encoded_relative_reference() -> None:
    # SARIF's artifactLocation.uri must be a URI reference: a space, '#', '%' or non-ASCII
    # character in a path is percent-encoded (RFC 3986), as CodeQL writes them.
    path = "app/caf\u00e9 #1 100%.py"
    diff = parse_diff(
        f'diff --git "a/{path}" "b/{path}"\n--- "a/{path}"\n+++ "b/{path}"\n@@ -1 +1,2 @@\n a\n+b\n'
    )
    finding = Finding.model_validate(
        {
            "id": fingerprint("r", path, "b"),
            "rule": "r",
            "source": "rule",
            "type": "evidence",
            "category": "api",
            "severity": "major",
            "title": "t",
            "where": {"path": path, "lines": "2"},
            "evidence": "e",
            "recommendation": "r",
        }
    )
    plan = build_plan(PlanInput(diff, [finding], RepoConfig()))
    log = json.loads(as_sarif(plan, version="0", rule_docs=[], fail_on=Severity.MAJOR))
    [result] = log["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "app/caf%C3%A9%20%231%20100%25.py"


def _plan_with_scenario(scenario: str) -> ReviewPlan:
    """One model finding on line 2 of app/x.py, with evidence, a failure scenario and advice."""
    diff = parse_diff(
        "diff --git a/app/x.py b/app/x.py\n--- a/app/x.py\n+++ b/app/x.py\n@@ -1 +1,2 @@\n a\n+b\n"
    )
    finding = Finding.model_validate(
        {
            "id": fingerprint("llm", "app/x.py", "b"),
            "rule": "llm",
            "source": "llm",
            "type": "evidence",
            "category": "api",
            "severity": "minor",
            "title": "t",
            "where": {"path": "app/x.py", "lines": "2"},
            "evidence": "the evidence",
            "failure_scenario": scenario,
            "recommendation": "lock it",
        }
    )
    return build_plan(PlanInput(diff, [finding], RepoConfig()))


def test_sarif_message_carries_the_failure_scenario_after_the_evidence() -> None:
    plan = _plan_with_scenario("two workers claim one job")
    log = json.loads(as_sarif(plan, version="0", rule_docs=[], fail_on=Severity.MAJOR))
    [result] = log["runs"][0]["results"]
    text = result["message"]["text"]
    assert (
        "the evidence\n\nHow it fails: two workers claim one job\n\nRecommendation: lock it" in text
    )


def test_text_report_wraps_the_failure_scenario_under_its_finding() -> None:
    plan = _plan_with_scenario("two workers claim one job " * 4)
    lines = as_text(plan, mode="rules + model", color=False, width=60).splitlines()
    at = next(i for i, line in enumerate(lines) if "how it fails: two workers" in line)
    assert lines[at - 1].strip() == "the evidence"
    assert lines[at + 1].startswith(" " * 11)  # the hanging indent of the wrapped rest
    assert all(len(line) <= 60 for line in lines[at : at + 3])
