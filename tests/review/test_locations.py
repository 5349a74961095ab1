"""One truth about where a finding is: every report shows the anchored location, and why it
moved (issue 14, item 7)."""

from __future__ import annotations

import json

from app.review.findings import Severity
from app.review.report import as_json, as_markdown, as_sarif, as_text
from tests.review.test_model_gate import llm, plan, rule

FAR = {"path": "app/api.py", "lines": "9990-9999"}


def test_every_report_gives_the_anchored_location_not_the_claimed_lines() -> None:
    got = plan(llm(where=FAR, confidence=0.9), rule(severity="minor"))
    [far] = [f for f in got.findings if f.source.value == "llm"]
    assert got.locations[far.id].lines is None
    assert got.locations[far.id].note == "line 9990-9999 is not in the diff"

    data = json.loads(as_json(got, version="1", status="ready"))
    [shown] = [f for f in data["findings"] if f["id"] == far.id]
    assert shown["where"] == {"path": "app/api.py", "lines": None, "side": "RIGHT"}
    assert data["anchoring"] == {far.id: "line 9990-9999 is not in the diff"}

    sarif = json.loads(as_sarif(got, version="1", rule_docs=[], fail_on=Severity.MAJOR))
    results = {r["partialFingerprints"]["backendReview/v1"]: r for r in sarif["runs"][0]["results"]}
    location = results[far.id]["locations"][0]["physicalLocation"]
    assert "region" not in location
    assert "(file level: line 9990-9999 is not in the diff)" in results[far.id]["message"]["text"]

    text = as_text(got, mode="rules + model", color=False)
    assert "app/api.py (file level: line 9990-9999 is not in the diff)" in text
    assert "9990" not in text.replace("line 9990-9999 is not in the diff", "")
    markdown = as_markdown(got)
    assert "`app/api.py` (file: line 9990-9999 is not in the diff)" in markdown


def test_a_narrowed_or_moved_line_is_reported_where_it_was_anchored() -> None:
    narrowed = llm(where={"path": "app/api.py", "lines": "8-12"})  # the hunk starts at 10
    moved = llm(title="moved", where={"path": "app/api.py", "lines": "16"})
    got = plan(narrowed, moved)
    data = json.loads(as_json(got, version="1", status="ready"))
    lines = {f["title"]: f["where"]["lines"] for f in data["findings"]}
    assert lines == {narrowed.title: "10-12", "moved": "14"}
    assert set(data["anchoring"].values()) == {
        "narrowed from lines 8-12 to what the diff shows",
        "moved from line 16, which is not in the diff",
    }
    sarif = json.loads(as_sarif(got, version="1", rule_docs=[], fail_on=Severity.MAJOR))
    regions = sorted(
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in sarif["runs"][0]["results"]
    )
    assert regions == [10, 14]
    text = as_text(got, mode="rules + model", color=False)
    assert "app/api.py:10-12" in text
    assert "app/api.py:14" in text


def test_a_rule_finding_on_its_line_has_no_anchoring_note() -> None:
    data = json.loads(as_json(plan(rule()), version="1", status="ready"))
    assert "anchoring" not in data
    assert data["findings"][0]["where"]["lines"] == "11"
