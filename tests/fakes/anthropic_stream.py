"""A message as the Messages API streams it (`"stream": true`): server-sent events.

The order the API documents: `message_start` (the message with empty content and the input
usage), a `ping`, then per content block `content_block_start`, its deltas (`text_delta`,
`input_json_delta` carrying the tool input's JSON in pieces, `thinking_delta` and
`signature_delta`) and `content_block_stop`, then `message_delta` (stop reason, cumulative
usage) and `message_stop`. An error after the stream began comes as an `error` event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

_PIECE = 64  # characters per delta: several deltas for any real answer


def event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def start_events(message: dict[str, Any]) -> Iterator[bytes]:
    """What is sent the moment the response begins."""
    usage = dict(message.get("usage") or {})
    head = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    head["usage"] = {**usage, "output_tokens": min(1, usage.get("output_tokens") or 0)}
    yield event("message_start", {"type": "message_start", "message": head})
    yield event("ping", {"type": "ping"})


def rest_events(message: dict[str, Any]) -> Iterator[bytes]:
    """The content, the stop reason and the final usage."""
    for index, block in enumerate(message.get("content") or []):
        yield from _block_events(index, block)
    usage = {k: v for k, v in (message.get("usage") or {}).items() if k != "service_tier"}
    yield event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message.get("stop_reason"), "stop_sequence": None},
            "usage": usage,
        },
    )
    yield event("message_stop", {"type": "message_stop"})


def error_event(error: dict[str, Any]) -> bytes:
    return event("error", error)


def _block_events(index: int, block: dict[str, Any]) -> Iterator[bytes]:
    kind = block.get("type")
    if kind == "tool_use":
        # A cut answer streams what the model wrote up to the cut (`partial_json`).
        written = block.get("partial_json") or json.dumps(block.get("input", {}))
        stub = {k: v for k, v in block.items() if k != "partial_json"} | {"input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in _pieces(written)]
    elif kind == "thinking":
        stub = {**block, "thinking": "", "signature": ""}
        deltas = [
            {"type": "thinking_delta", "thinking": p} for p in _pieces(block.get("thinking", ""))
        ]
        deltas.append({"type": "signature_delta", "signature": block.get("signature", "")})
    elif kind == "text":
        stub = {**block, "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in _pieces(block.get("text", ""))]
    else:  # redacted_thinking and the like arrive whole
        stub, deltas = block, []
    yield event(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": stub},
    )
    for delta in deltas:
        yield event(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )
    yield event("content_block_stop", {"type": "content_block_stop", "index": index})


def _pieces(text: str) -> list[str]:
    return [text[i : i + _PIECE] for i in range(0, len(text), _PIECE)]
