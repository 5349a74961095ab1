"""How fast the webhook channel's stream is parsed (app/webhook_proxy/sse.py), and the events
turned back into GitHub's requests (app/webhook_proxy/channel.py).

Prints MB/s for a smee-like stream of realistic `pull_request` deliveries (bench/payload.py,
with and without `rawBody`) and for hostile streams (nothing but line ends, one line that never
ends), each parsed in 64 KiB chunks as httpx hands them over. Rerun:
`.venv/bin/python -m bench.sse_parse`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from app.webhook_proxy.channel import forwarded
from app.webhook_proxy.sse import Event, EventParser
from bench.payload import pull_request_event

CHUNK = 64 * 1024
CAP = 4 * 1024 * 1024


def smee_stream(count: int, *, raw: bool) -> bytes:
    body = json.dumps(pull_request_event(7), separators=(",", ":"))
    events = []
    for n in range(count):
        data: dict[str, object] = {
            "x-github-event": "pull_request",
            "x-github-delivery": f"d-{n}",
            "x-hub-signature-256": "sha256=" + "0" * 64,
            "body": json.loads(body),
        }
        if raw:
            data["rawBody"] = body
        events.append(f"id: {n}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n")
    return "".join(events).encode()


def timed(stream: bytes, on_event: Callable[[Event], object] | None = None) -> float:
    parser = EventParser(CAP)
    started = time.perf_counter()
    for at in range(0, len(stream), CHUNK):
        for item in parser.feed(stream[at : at + CHUNK]):
            if on_event is not None and isinstance(item, Event):
                on_event(item)
    return time.perf_counter() - started


def report(name: str, stream: bytes, on_event: Callable[[Event], object] | None = None) -> None:
    best = min(timed(stream, on_event) for _ in range(3))
    print(f"{name:<42} {len(stream) / 1e6:7.1f} MB  {len(stream) / 1e6 / best:8.1f} MB/s")


def main() -> None:
    plain = smee_stream(500, raw=False)
    with_raw = smee_stream(500, raw=True)
    report("smee stream, parse only", plain)
    report("smee stream, parse + request", plain, lambda e: forwarded(e.data))
    report("smee stream with rawBody, parse + request", with_raw, lambda e: forwarded(e.data))
    report("hostile: 8 MB of LF", b"\n" * 8_000_000)
    report("hostile: 8 MB of CR", b"\r" * 8_000_000)
    report("hostile: one 32 MB line (over the cap)", b"x" * 32_000_000)


if __name__ == "__main__":
    main()
