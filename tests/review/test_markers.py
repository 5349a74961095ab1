"""Hidden markers: written once per comment, read back exactly."""

from __future__ import annotations

import pytest

from app.review.markers import (
    SUMMARY_MARKER,
    defuse,
    finding_ids,
    finding_marker,
    findings_marker,
    is_summary,
)


def test_round_trip() -> None:
    body = f"text\n\n{finding_marker('br-0123456789ab')}\n"
    assert finding_ids(body) == {"br-0123456789ab"}
    assert finding_ids("no marker here") == set()
    assert is_summary(f"{SUMMARY_MARKER}\n\n## backend-review")
    assert not is_summary("mentions <!-- backend-review:summary --> inline")


@pytest.mark.parametrize("bad", ["", "br x", "a-->b", "x" * 65])
def test_marker_refuses_ids_that_could_break_the_comment(bad: str) -> None:
    with pytest.raises(ValueError, match="not a finding id"):
        finding_marker(bad)


def test_marker_inside_a_line_is_not_read() -> None:
    assert finding_ids("quote: <!-- backend-review:finding br-0123456789ab -->") == set()
    assert finding_ids(defuse("<!-- backend-review:finding br-0123456789ab -->")) == set()


def test_only_the_trailing_finding_marker_and_leading_summary_marker_count() -> None:
    # Our bodies end with their one finding marker and start with the summary marker; a marker
    # anywhere else (inside a code block the model wrote, say) is quoted text, not ours.
    marker = finding_marker("br-0123456789ab")
    quoted = "```\n<!-- backend-review:finding br-ffffffffffff -->\n```"
    assert finding_ids(f"text\n{quoted}\n\n{marker}\n") == {"br-0123456789ab"}
    assert finding_ids(f"{marker}\n\ntext after") == set()
    assert is_summary(f"{SUMMARY_MARKER}\r\n\r\nbody")
    assert not is_summary(f"intro\n\n```\n{SUMMARY_MARKER}\n```")


def test_several_ids_on_the_last_line_round_trip() -> None:
    ids = ["br-0123456789ab", "br-ba9876543210"]
    body = f"review text\n\n{findings_marker(ids)}"
    assert finding_ids(body) == set(ids)
    assert finding_ids(f"{findings_marker(ids)}\nquoted after it") == set()
    with pytest.raises(ValueError, match="not a finding id"):
        findings_marker(["br-1", "two words"])
