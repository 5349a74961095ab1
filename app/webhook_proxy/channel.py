"""What a smee.io-style channel sends, turned back into the request GitHub made.

A channel (smee.io, or a self-hosted smee server) takes GitHub's POST and sends each listener an
event whose `data` is one JSON object: the request's headers, lower-cased, as members
(`x-github-event`, `x-github-delivery`, `x-hub-signature-256`, ...), the body parsed as JSON
under `body`, and on newer servers the body as it arrived under `rawBody` (a string). Events named
`ready` and `ping` carry `{}` and are not deliveries.

The signature GitHub sent covers the bytes it posted, so the body we pass on must be those bytes:

- `rawBody` when the channel gives it: exactly what GitHub sent;
- otherwise the text of `body` exactly as it stands in the event, cut out of the event's data
  rather than parsed and written again. The channel parsed GitHub's JSON and wrote it anew, and
  GitHub's payloads are compact JSON that JavaScript's `JSON.stringify` writes back byte for byte
  in practice (the smee client and Probot rely on the same); where it does not, the signature
  check fails and the delivery is refused like any other that does not match.

Nothing here checks a signature: the forwarder posts what this module returns to our own webhook
endpoint, which checks it as it checks every delivery.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from app.errors import BackendReviewError

# The headers of GitHub's request passed on; anything else the channel adds (its own host,
# proxies' headers, a content length that no longer holds) is dropped.
_PASSED = ("content-type", "user-agent", "x-hub-signature-256", "x-hub-signature")
_PASSED_PREFIX = "x-github-"
_MAX_HEADERS = 64
_MAX_HEADER_CHARS = 1024
_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"
NOT_DELIVERIES = frozenset({"ready", "ping"})


class ChannelEventError(BackendReviewError):
    """A channel's event that is not a forwarded delivery; `reason` is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Forwarded:
    headers: dict[str, str]
    body: bytes = field(repr=False)

    @property
    def delivery(self) -> str:
        return self.headers.get("x-github-delivery", "?")


def forwarded(data: str) -> Forwarded:
    """The request inside a channel event's `data`, or ChannelEventError."""
    members = _members(data)
    headers: dict[str, str] = {}
    for name, (value, _) in members.items():
        lowered = name.lower()
        if lowered in _PASSED or lowered.startswith(_PASSED_PREFIX):
            if not isinstance(value, str) or len(value) > _MAX_HEADER_CHARS:
                raise ChannelEventError(f"header {lowered[:64]!r} is not a short string")
            if not value.isprintable() or not value.isascii():
                raise ChannelEventError(f"header {lowered[:64]!r} holds characters HTTP cannot")
            headers[lowered] = value
    if len(headers) > _MAX_HEADERS:
        raise ChannelEventError("too many headers")
    headers["content-type"] = "application/json"
    raw = members.get("rawBody") or members.get("rawbody")
    if raw is not None and isinstance(raw[0], str):
        return Forwarded(headers, raw[0].encode("utf-8"))
    if "body" not in members:
        raise ChannelEventError("no body")
    _, (start, end) = members["body"]
    return Forwarded(headers, data[start:end].encode("utf-8"))


def _members(data: str) -> dict[str, tuple[object, tuple[int, int]]]:
    """The top-level members of a JSON object with where each value's text starts and ends.

    Each value is decoded once by the standard decoder from its own offset: linear in `data`.
    """
    members: dict[str, tuple[object, tuple[int, int]]] = {}
    at = _skip(data, 0)
    if not data.startswith("{", at):
        raise ChannelEventError("the event's data is not a JSON object")
    at = _skip(data, at + 1)
    if data.startswith("}", at):
        return members
    while True:
        name, at = _decode(data, at)
        if not isinstance(name, str):
            raise ChannelEventError("the event's data is not a JSON object")
        at = _skip(data, at)
        if not data.startswith(":", at):
            raise ChannelEventError("the event's data is not JSON")
        start = _skip(data, at + 1)
        value, end = _decode(data, start)
        members[name] = (value, (start, end))  # a repeated name: the last wins, as in JSON.parse
        at = _skip(data, end)
        if data.startswith("}", at):
            break
        if not data.startswith(",", at):
            raise ChannelEventError("the event's data is not JSON")
        at = _skip(data, at + 1)
    if _skip(data, at + 1) != len(data):
        raise ChannelEventError("the event's data is not JSON")
    return members


def _decode(data: str, at: int) -> tuple[object, int]:
    try:
        return _DECODER.raw_decode(data, at)
    except (ValueError, RecursionError):
        raise ChannelEventError("the event's data is not JSON") from None


def _skip(data: str, at: int) -> int:
    while at < len(data) and data[at] in _SPACE:
        at += 1
    return at
