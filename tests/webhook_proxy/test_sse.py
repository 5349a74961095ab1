"""The server-sent-events parser: the format's rules, any chunking, hostile streams in bounded
memory and linear work."""

from __future__ import annotations

import pytest

from app.webhook_proxy.sse import MAX_ID_CHARS, Event, EventParser, Oversized

CAP = 1024


def parse(stream: bytes, *, cap: int = CAP, step: int | None = None) -> list[Event | Oversized]:
    parser = EventParser(cap)
    if step is None:
        return parser.feed(stream)
    out: list[Event | Oversized] = []
    for at in range(0, len(stream), step):
        out += parser.feed(stream[at : at + step])
    return out


SMEE = (
    b"id: 1\nevent: ready\ndata: {}\n\n"
    b'id: 2\ndata: {"x-github-event":"ping","body":{"zen":"Keep it simple."}}\n\n'
    b"id: 3\nevent: ping\ndata: {}\n\n"
)


def test_a_smee_stream() -> None:
    assert parse(SMEE) == [
        Event("ready", "{}", "1"),
        Event("message", '{"x-github-event":"ping","body":{"zen":"Keep it simple."}}', "2"),
        Event("ping", "{}", "3"),
    ]


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_chunking_and_line_end_gives_the_same_events(step: int, newline: bytes) -> None:
    stream = SMEE.replace(b"\n", newline)
    assert parse(stream, step=step) == parse(SMEE)


def test_a_cr_at_a_chunks_end_and_an_lf_at_the_next_start_are_one_line_end() -> None:
    parser = EventParser(CAP)
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n\r") == [Event("message", "a", "")]
    assert parser.feed(b"\ndata: b\r\r") == [Event("message", "b", "")]


def test_the_fields_rules() -> None:
    stream = (
        b": a comment\n"
        b"data\n"  # no colon: the field with an empty value
        b"data:no space\n"
        b"data:  two spaces\n"  # only one space is dropped
        b"unknown: ignored\n"
        b"id: 7\n"
        b"\n"
        b"id: 8\x00\n"  # an id with a NUL is ignored: the last one stays
        b"data: next\n"
        b"\n"
        b"event: custom\n"
        b"\n"  # no data: nothing dispatched, and the type does not leak into the next event
        b"data: plain\n\n"
    )
    assert parse(stream) == [
        Event("message", "\nno space\n two spaces", "7"),
        Event("message", "next", "7"),
        Event("message", "plain", "7"),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "caf\u00e9".encode(),  # HTTP headers are ASCII: every reconnection would fail
        b"a\tb",
        b"a\x7fb",
        b"\xff\xfe",  # not UTF-8: replaced, so not ASCII
        b"x" * (MAX_ID_CHARS + 1),
        b"x" * (4 * 1024 * 1024 - 64),  # under the event cap, but a 4 MB header
    ],
)
def test_an_id_that_cannot_go_back_as_last_event_id_is_ignored(bad: bytes) -> None:
    stream = b"id: 7\ndata: a\n\nid: " + bad + b"\ndata: b\n\n"
    assert parse(stream, cap=4 * 1024 * 1024) == [
        Event("message", "a", "7"),
        Event("message", "b", "7"),
    ]


def test_a_short_printable_ascii_id_is_kept_and_an_empty_one_resets_it() -> None:
    longest = "~" * MAX_ID_CHARS
    stream = f"id: {longest}\ndata: a\n\nid: a b/c=1\ndata: b\n\nid\ndata: c\n\n".encode()
    assert parse(stream) == [
        Event("message", "a", longest),
        Event("message", "b", "a b/c=1"),
        Event("message", "c", ""),
    ]


def test_retry_takes_only_digits() -> None:
    parser = EventParser(CAP)
    parser.feed(b"retry: 2500\n\n")
    assert parser.retry_ms == 2500
    for bad in (b"retry: -1\n", b"retry: 1.5\n", b"retry: \xd9\xa3\n", b"retry: 99999999999\n"):
        parser.feed(bad)
        assert parser.retry_ms == 2500


def test_an_unfinished_event_is_not_dispatched() -> None:
    assert parse(b"data: half") == []
    assert parse(b"data: half\n") == []


def test_bytes_that_are_not_utf8_are_replaced() -> None:
    assert parse(b"data: \xff\xfe ok\n\n") == [Event("message", "\ufffd\ufffd ok", "")]


def test_an_oversized_event_is_dropped_and_the_next_one_read() -> None:
    big = b"data: " + b"x" * 600 + b"\n"
    stream = big + big + b"\n" + b"data: after\n\n"
    for step in (None, 1, 100):
        assert parse(stream, step=step) == [Oversized(CAP), Event("message", "after", "")]


def test_a_line_that_never_ends_holds_at_most_the_cap() -> None:
    parser = EventParser(CAP)
    for _ in range(1000):
        assert parser.feed(b"y" * 4096) == []
        assert len(parser._line) <= CAP
    # The blank line that ends the dropped event comes after the line ends.
    assert parser.feed(b"\n\ndata: ok\n\n") == [Oversized(CAP), Event("message", "ok", "")]


def test_many_small_data_lines_count_against_the_cap() -> None:
    stream = b"data: ab\n" * 400 + b"\n" + b"data: fine\n\n"
    assert parse(stream, step=13) == [Oversized(CAP), Event("message", "fine", "")]


@pytest.mark.parametrize(
    "hostile",
    [
        b"\r" * 500_000,
        b"\r\n" * 250_000,
        b"\n" * 500_000,
        b"x" * 2_000_000,
        b"data:" + b"\r" * 500_000,
        b"data: a\r" * 60_000,
        (b"x" * 999 + b"\r") * 2_000,
        b"data:\n\n" * 100_000,
        b"id:1\n\n" * 100_000,
    ],
    ids=[
        "cr",
        "crlf",
        "lf",
        "one-line",
        "data-then-cr",
        "short-lines",
        "long-lines",
        "empty-events",
        "ids-only",
    ],
)
def test_hostile_streams_are_parsed_in_one_pass(hostile: bytes) -> None:
    """Up to 2 MB each, at once and in 64 KiB chunks: a quadratic scan would not finish."""
    whole = parse(hostile, cap=CAP)
    chunked = parse(hostile, cap=CAP, step=65536)
    assert whole == chunked
    assert all(isinstance(item, Oversized) or len(item.data) <= CAP for item in whole)
