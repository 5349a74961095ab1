"""The prompt cache of the fake Messages API, modelled on what the API documents.

- The cached prefix is the request in the API's order, tools, then system, then messages, up
  to and including a block marked `cache_control`. Each breakpoint is a prefix of its own.
- An entry is written when a response begins (not when the request arrives): requests sent at
  the same time as the first all pay the write, and none reads. A lookup happens when a request
  arrives, a write when its response begins.
- A prefix shorter than the model's minimum cacheable length is not cached, silently (no
  error, both counters stay 0). The minimums are the capability table's
  (`app.llm.capabilities`, sourced in docs/llm.md): 4096 tokens for Opus 4.6 and 4.5 and for
  Haiku 4.5, 2048 for Opus 4.7, 1024 for Sonnet 4.6, …; 1024 for a model it lacks.
- An entry lives 5 minutes from its last use (a read refreshes it); entries are per model.
- Tokens are estimated (4 bytes of the block's JSON a token), not counted by a tokenizer: the
  shares between input, cache write and cache read are what the fake is for.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.llm.capabilities import lookup_any

TTL_SECONDS = 300.0
_BYTES_PER_TOKEN = 4
_DEFAULT_MINIMUM = 1024


def minimum_cacheable_tokens(model: str) -> int:
    """The model's minimum as the capability table records it (with its sources, docs/llm.md),
    any provider's id; 1024 for a model the table lacks."""
    spec = lookup_any(model)
    return spec.min_cache_tokens if spec is not None else _DEFAULT_MINIMUM


def estimate_tokens(value: Any) -> int:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return math.ceil(len(text.encode("utf-8")) / _BYTES_PER_TOKEN)


@dataclass(frozen=True, slots=True)
class CacheUse:
    """How one request's input tokens split: uncached, written to the cache, read from it."""

    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int


@dataclass(frozen=True, slots=True)
class _Prefix:
    key: str
    tokens: int


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a request found when it arrived; `PromptCache.begin` writes the rest."""

    model: str
    total_tokens: int
    prefixes: tuple[_Prefix, ...]  # one per breakpoint, shortest first
    read: _Prefix | None


class PromptCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expires: dict[str, float] = {}  # prefix key -> when it expires

    def arrive(self, body: dict[str, Any]) -> Lookup:
        """A request arrives: the longest of its breakpoint prefixes still cached is read."""
        model = str(body.get("model", ""))
        blocks = _blocks(body)
        total = sum(tokens for _, tokens, _ in blocks)
        prefixes: list[_Prefix] = []
        digest = hashlib.sha256(model.encode())
        tokens = 0
        for block, size, breakpoint_ in blocks:
            digest.update(json.dumps(block, sort_keys=True).encode())
            tokens += size
            if breakpoint_:
                prefixes.append(_Prefix(digest.copy().hexdigest(), tokens))
        now = self._clock()
        read = next((p for p in reversed(prefixes) if self._expires.get(p.key, -1.0) > now), None)
        if read is not None:
            self._expires[read.key] = now + TTL_SECONDS
        return Lookup(model, total, tuple(prefixes), read)

    def begin(self, lookup: Lookup) -> CacheUse:
        """Its response begins: every breakpoint prefix long enough is written (or refreshed)."""
        now = self._clock()
        minimum = minimum_cacheable_tokens(lookup.model)
        read = lookup.read.tokens if lookup.read is not None else 0
        written = read
        for prefix in lookup.prefixes:
            if prefix.tokens < minimum:
                continue
            if prefix.tokens > read:
                written = max(written, prefix.tokens)
            self._expires[prefix.key] = now + TTL_SECONDS
        return CacheUse(
            input_tokens=lookup.total_tokens - written,
            cache_creation_input_tokens=written - read,
            cache_read_input_tokens=read,
        )

    def __len__(self) -> int:
        now = self._clock()
        return sum(1 for expires in self._expires.values() if expires > now)


def _blocks(body: dict[str, Any]) -> list[tuple[Any, int, bool]]:
    """The request's blocks in cache order, each with its token estimate and whether a
    breakpoint closes it. `cache_control` itself is not part of the cached content; what sits
    around the blocks (tool_choice, thinking) is part of the messages' prefix only, as the API
    documents (changing it invalidates the messages' cache, not the tools' or the system's)."""
    out: list[tuple[Any, int, bool]] = []
    for tool in body.get("tools") or []:
        out.append(_block(tool))
    system = body.get("system")
    if isinstance(system, str):
        out.append((system, estimate_tokens(system), False))
    else:
        out += [_block(b) for b in system or []]
    settings = {"tool_choice": body.get("tool_choice"), "thinking": body.get("thinking")}
    out.append((settings, 0, False))
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        for block in content or []:
            marked = _block(block)
            out.append(({"role": message.get("role"), "block": marked[0]}, *marked[1:]))
    return out


def _block(block: Any) -> tuple[Any, int, bool]:
    if not isinstance(block, dict):
        return block, estimate_tokens(block), False
    content = {k: v for k, v in block.items() if k != "cache_control"}
    return content, estimate_tokens(content), "cache_control" in block
