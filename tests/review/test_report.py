"""Output formats of a plan: SARIF details that code scanning relies on."""

from __future__ import annotations

import json

from app.review.diff import parse_diff
from app.review.findings import Finding, Severity, fingerprint
from app.review.plan import PlanInput, build_plan
from app.review.repo_config import RepoConfig
from app.review.report import as_sarif


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
