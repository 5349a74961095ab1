"""A channel's event back into GitHub's request: the headers passed on, the body's exact bytes,
and events that are not deliveries refused with a reason."""

from __future__ import annotations

import json

import pytest

from app.webhook_proxy.channel import ChannelEventError, forwarded

GITHUB_BODY = '{"action":"opened","number":7,"pull_request":{"title":"Ça marche \\u2028 <b>"}}'
HEADERS = {
    "host": "smee.io",
    "content-length": "999",
    "connection": "close",
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/abc1234",
    "x-github-event": "pull_request",
    "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    "x-github-hook-id": "42",
    "x-hub-signature-256": "sha256=" + "ab" * 32,
    "x-forwarded-for": "140.82.115.1",
}


def event_data(*, raw: bool, body_text: str = GITHUB_BODY, spaces: bool = False) -> str:
    """As a smee server writes it: the headers, then the body (and rawBody), query, timestamp."""
    sep = (", ", ": ") if spaces else (",", ":")
    head = json.dumps(HEADERS, separators=sep, ensure_ascii=False)[:-1]
    parts = [head, f'"body"{sep[1]}{body_text}']
    if raw:
        parts.append(f'"rawBody"{sep[1]}{json.dumps(body_text)}')
    parts.append(f'"query"{sep[1]}{{}}{sep[0]}"timestamp"{sep[1]}1700000000000}}')
    return sep[0].join(parts)


def test_githubs_headers_are_passed_on_and_the_channels_own_dropped() -> None:
    request = forwarded(event_data(raw=False))
    assert request.headers == {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/abc1234",
        "x-github-event": "pull_request",
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "x-github-hook-id": "42",
        "x-hub-signature-256": "sha256=" + "ab" * 32,
    }
    assert request.delivery == "72d3162e-cc78-11e3-81ab-4c9367dc0958"


@pytest.mark.parametrize("spaces", [False, True])
def test_without_raw_body_the_bodys_text_is_cut_out_as_it_stands(spaces: bool) -> None:
    """Not parsed and written again: escapes, key order and spacing inside stay as sent."""
    assert forwarded(event_data(raw=False, spaces=spaces)).body == GITHUB_BODY.encode()


def test_raw_body_wins_over_body() -> None:
    pretty = '{\n  "action": "opened",\n  "number": 7\n}'
    data = event_data(raw=True, body_text=pretty)
    assert forwarded(data).body == pretty.encode()
    lower = data.replace('"rawBody"', '"rawbody"')
    assert forwarded(lower).body == pretty.encode()


def test_a_raw_body_of_the_wrong_type_falls_back_to_body() -> None:
    data = '{"x-github-event":"ping","body":{"zen":"z"},"rawBody":{"not":"a string"}}'
    assert forwarded(data).body == b'{"zen":"z"}'


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("", "not a JSON object"),
        ("[1, 2]", "not a JSON object"),
        ('"text"', "not a JSON object"),
        ("{}", "no body"),
        ('{"x-github-event":"ping"}', "no body"),
        ('{"body":{}', "not JSON"),
        ('{"body":{}} trailing', "not JSON"),
        ('{"body" {}}', "not JSON"),
        ('{"body":{},}', "not JSON"),
        ("{1: 2}", "not a JSON object"),
        ('{"body":' + "[" * 100_000 + "]" * 100_000 + "}", "not JSON"),
        ('{"x-github-event":7,"body":{}}', "not a short string"),
        ('{"x-github-event":"a\\r\\nx-evil: 1","body":{}}', "characters HTTP cannot"),
        ('{"x-github-event":"caf\\u00e9","body":{}}', "characters HTTP cannot"),
        ('{"x-github-event":"' + "e" * 2000 + '","body":{}}', "not a short string"),
    ],
    ids=[
        "empty",
        "array",
        "string",
        "empty-object",
        "no-body",
        "unclosed",
        "trailing",
        "no-colon",
        "trailing-comma",
        "bare-key",
        "deep",
        "header-number",
        "header-newline",
        "header-non-ascii",
        "header-long",
    ],
)
def test_events_that_are_not_deliveries_are_refused_with_a_reason(data: str, reason: str) -> None:
    with pytest.raises(ChannelEventError) as caught:
        forwarded(data)
    assert reason in caught.value.reason


def test_too_many_headers() -> None:
    members = ",".join(f'"x-github-h{i}":"v"' for i in range(100))
    with pytest.raises(ChannelEventError, match="too many headers"):
        forwarded("{" + members + ',"body":{}}')
