"""Hidden markers: written once per comment, read back exactly."""

from __future__ import annotations

import pytest

from app.review.markers import SUMMARY_MARKER, defuse, finding_ids, finding_marker, is_summary


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
