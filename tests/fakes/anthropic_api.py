"""A fake of Anthropic's Messages API at the HTTP edge, strict about what it accepts.

`FakeAnthropic` is an `httpx2.MockTransport` handler (the SDK is built on httpx2, which respx
does not see). It records every request and checks it the way the real API at version
2026-10-21 (what SDK 2.x sends) does: route, version header, key (`x-api-key` or the SDK's
`Authorization: Bearer`), required fields, no unknown fields (temperature, top_p and top_k are
"Extra inputs are not permitted" at that version), non-empty text blocks, alternating turns
starting with the user, every tool_use answered by a tool_result first thing in the next user
turn, tool_choice naming a tool, object input schemas closed with `additionalProperties: false`
on strict tools, at most four cache breakpoints. A bad request gets the API's 400
`invalid_request_error` and does not consume a queued answer. Valid requests get the queued
answers in order, then whatever `respond_with` computes.

With `"stream": true` the answer comes as the API's server-sent events
(`tests/fakes/anthropic_stream.py`). The prompt cache is modelled
(`tests/fakes/anthropic_cache.py`): an entry is written when a response begins and read by
requests that arrive after that; with `measure_usage=True` the usage reports it (input, cache
write and cache read tokens estimated from the request) instead of the answer's scripted
figures. `events` records when each request
arrived, when its response began and when it ended.

The answer builders below produce the API's JSON: messages with `tool_use` / `text` blocks and
four-part usage, and errors shaped `{"type": "error", "error": {...}, "request_id": ...}` with
`request-id` and `retry-after` headers.

An answer cut off at `max_tokens` (`cut_tool_answer`) is shaped as the API shapes it without
fine-grained tool streaming: the API holds each top-level tool parameter back until its JSON is
complete, so the `tool_use` block carries the parameters finished before the cut and none of the
one being written (an answer cut inside its first parameter has `input: {}`), and
`output_tokens` is the request's `max_tokens`.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from typing import Any

import httpx2
from anthropic import AsyncAnthropic

from tests.fakes.anthropic_cache import CacheUse, PromptCache
from tests.fakes.anthropic_stream import error_event, rest_events, start_events
from tests.fakes.anthropic_thinking import thinking_block_problem, thinking_problem

BASE_URL = "https://api.anthropic.test"
DEFAULT_USAGE: dict[str, int | None] = {
    "input_tokens": 1520,
    "output_tokens": 318,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
}
_BODY_FIELDS = frozenset(
    {
        "model", "max_tokens", "messages", "system", "tools", "tool_choice", "stop_sequences",
        "stream", "metadata", "thinking", "service_tier", "container", "cache_control",
        "output_config", "inference_geo", "speed", "diagnostics", "user_profile_id",
    }
)  # fmt: skip
_TOOL_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_MAX_CACHE_BREAKPOINTS = 4


def _id(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    json: Any  # the decoded body, or None when it was not JSON
    url: str = ""


@dataclass(frozen=True)
class Answer:
    """What the fake does with one valid request."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    exception: type[httpx2.TransportError] | None = None  # raised instead of answering
    delay: float = 0.0  # seconds to hang before answering
    # Seconds between the response beginning (the cache entry is written, `message_start` is
    # sent) and its end.
    generation: float = 0.0
    # Also between the beginning and the end: wait until this is set (a test decides when).
    hold: asyncio.Event | None = None
    # An `error` event sent after `message_start` on a streamed answer (an overload mid-way).
    stream_error: dict[str, Any] | None = None
    # A tool call cut off at `max_tokens`: the JSON text the model had written when it was
    # cut, which a streamed answer carries in its `input_json_delta`s (the body's `input`
    # holds only the parameters completed before the cut, as a response without streaming).
    cut_json: str | None = None


def tool_answer(
    input: dict[str, Any],  # the API's own field name
    *,
    stop_reason: str = "tool_use",
    usage: Mapping[str, int | None] | None = None,
    text: str = "",
    tool_use_id: str | None = None,
    thinking: dict[str, Any] | None = None,  # anthropic_thinking.thinking_block(...)
) -> Answer:
    """A message whose tool_use block calls the request's tool with `input`."""
    content: list[dict[str, Any]] = [thinking] if thinking else []
    content += [{"type": "text", "text": text}] if text else []
    content.append(
        {"type": "tool_use", "id": tool_use_id or _id("toolu_01"), "name": None, "input": input}
    )
    return _message(content, stop_reason, usage)


def cut_tool_answer(
    input: dict[str, Any],  # the whole answer the model was writing
    *,
    cut_in: str,  # the top-level parameter being written when max_tokens was reached
    usage: Mapping[str, int | None] | None = None,
) -> Answer:
    """`input` cut off at `max_tokens` inside `cut_in`: only the parameters before it arrive."""
    keys = list(input)
    complete = {k: input[k] for k in keys[: keys.index(cut_in)]}
    # output_tokens None: the request's max_tokens, filled in when the request is known.
    answer = tool_answer(
        complete, stop_reason="max_tokens", usage={"output_tokens": None, **(usage or {})}
    )
    return replace(answer, cut_json=_cut_inside(input, cut_in))


def _cut_inside(input: dict[str, Any], cut_in: str) -> str:
    """`input`'s JSON up to halfway through the parameter `cut_in`'s value."""
    keys = list(input)
    written = json.dumps({k: input[k] for k in keys[: keys.index(cut_in) + 1]})
    start = written.index(json.dumps(cut_in) + ":")
    return written[: start + (len(written) - start) // 2]


def needs_output(
    tokens: int, input: dict[str, Any], *, cut_in: str
) -> Callable[[dict[str, Any]], Answer]:
    """For `respond_with`: `input` when the request allows `tokens` of output, else cut."""

    def answer(body: dict[str, Any]) -> Answer:
        if body["max_tokens"] >= tokens:
            return tool_answer(input, usage={"output_tokens": tokens})
        return cut_tool_answer(input, cut_in=cut_in)

    return answer


def text_answer(
    text: str, stop_reason: str = "end_turn", *, usage: Mapping[str, int | None] | None = None
) -> Answer:
    """A message with text only (the model ignored the tool, refused, or was cut off)."""
    return _message([{"type": "text", "text": text}] if text else [], stop_reason, usage)


def error(
    status: int,
    type: str,  # the API's own field name
    message: str,
    *,
    retry_after: float | str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    request_id = _id("req_011C")
    extra = {"request-id": request_id}
    if retry_after is not None:
        extra["retry-after"] = str(retry_after)
    body = {"type": "error", "error": {"type": type, "message": message}, "request_id": request_id}
    return Answer(status=status, body=body, headers={**extra, **(headers or {})})


def overloaded() -> Answer:
    return error(529, "overloaded_error", "Overloaded")


def rate_limited(retry_after: float | str | None = None) -> Answer:
    return error(
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 50,000 input tokens"
        " per minute. Please reduce the prompt length or the maximum tokens requested.",
        retry_after=retry_after,
    )


def server_error() -> Answer:
    return error(500, "api_error", "Internal server error")


def timeout() -> Answer:
    """The handler raises httpx2.ReadTimeout, as a stalled socket would."""
    return Answer(exception=httpx2.ReadTimeout)


def connection_error() -> Answer:
    return Answer(exception=httpx2.ConnectError)


def hang(seconds: float = 3600.0, then: Answer | None = None) -> Answer:
    """Answer only after `seconds` (the client should have given up long before)."""
    return replace(then or text_answer("late"), delay=seconds)


def _message(
    content: list[dict[str, Any]], stop_reason: str, usage: Mapping[str, int | None] | None
) -> Answer:
    body = {
        "type": "message",
        "role": "assistant",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {**DEFAULT_USAGE, **(usage or {}), "service_tier": "standard"},
    }
    return Answer(body=body)


class FakeAnthropic:
    """One fake API: queue answers, run the code under test, assert on `requests`."""

    API_KEY = "sk-ant-api03-Fk3Tq9Lr2Zp7Xw1Vb8Nc4Md6Hs0Jg5Ky2Ue9Ri7To3Pa1Sl4Qx-8mQ2vAA"

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        measure_usage: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self.cache = PromptCache(clock)
        self.measure_usage = measure_usage
        # ("arrive" | "begin" | "end", index in `requests`), in the order they happened.
        self.events: list[tuple[str, int]] = []
        self.cache_uses: dict[int, CacheUse] = {}  # by index in `requests`, once begun
        self._queue: deque[Answer] = deque()
        self._respond: Callable[[dict[str, Any]], Answer] | None = None

    def enqueue(self, *answers: Answer) -> None:
        self._queue.extend(answers)

    def respond_with(self, fn: Callable[[dict[str, Any]], Answer]) -> None:
        """Answer from the request's JSON once the queue is empty."""
        self._respond = fn

    @property
    def bodies(self) -> list[Any]:
        return [r.json for r in self.requests]

    def http_client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self.handler))

    def client(self, *, api_key: str | None = None) -> AsyncAnthropic:
        return AsyncAnthropic(
            api_key=api_key or self.api_key,
            base_url=BASE_URL,
            max_retries=0,
            http_client=self.http_client(),
        )

    async def handler(self, request: httpx2.Request) -> httpx2.Response:
        # async so that hang() can wait; MockTransport awaits it for an AsyncClient.
        try:
            body = json.loads(request.content) if request.content else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(
            RecordedRequest(request.method, request.url.path, headers, body, str(request.url))
        )

        if request.url.path != "/v1/messages":
            return _respond(error(404, "not_found_error", "Not Found"))
        if request.method != "POST":
            return _respond(error(405, "invalid_request_error", "Method Not Allowed"))
        if not headers.get("anthropic-version"):
            return _invalid("anthropic-version: header is required")
        if not self._authorized(headers):
            return _respond(error(401, "authentication_error", "invalid x-api-key"))
        if not isinstance(body, dict):
            return _invalid("The request body is not valid JSON.")
        problem = request_problem(body)
        if problem is not None:
            return _invalid(problem)

        index = len(self.requests) - 1
        lookup = self.cache.arrive(body)
        self.events.append(("arrive", index))
        answer = self._next(body)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.exception is not None:
            raise answer.exception("fake transport failure", request=request)
        if answer.status != 200:
            return _respond(answer, body)
        use = self.cache_uses[index] = self.cache.begin(lookup)
        self.events.append(("begin", index))
        message = _fill_message(answer.body, body, use if self.measure_usage else None)
        if body.get("stream"):
            if answer.cut_json is not None:
                message = _with_cut_json(message, answer.cut_json)
            return _stream(message, answer, lambda: self.events.append(("end", index)))
        if answer.generation:
            await asyncio.sleep(answer.generation)
        if answer.hold is not None:
            await answer.hold.wait()
        self.events.append(("end", index))
        if answer.stream_error is not None:
            return _respond(_unstreamed(answer.stream_error))
        return _respond(replace(answer, body=message))

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        # The API takes `x-api-key`; SDK 2.10 sends the key as a Bearer token instead.
        bearer = headers.get("authorization", "").removeprefix("Bearer ")
        return self.api_key in (headers.get("x-api-key"), bearer)

    def _next(self, body: dict[str, Any]) -> Answer:
        if self._queue:
            return self._queue.popleft()
        if self._respond is not None:
            return self._respond(body)
        return error(500, "api_error", "FakeAnthropic has no answer queued for this request")


def _with_cut_json(message: dict[str, Any], cut_json: str) -> dict[str, Any]:
    content = [
        {**block, "partial_json": cut_json} if block.get("type") == "tool_use" else block
        for block in message["content"]
    ]
    return {**message, "content": content}


def _invalid(message: str) -> httpx2.Response:
    return _respond(error(400, "invalid_request_error", message))


def _respond(answer: Answer, request: dict[str, Any] | None = None) -> httpx2.Response:
    body = answer.body
    headers = {"date": formatdate(usegmt=True), "request-id": _id("req_011C")}
    if answer.status == 200 and request is not None:
        body = _fill_message(body, request)
    return httpx2.Response(answer.status, json=body, headers={**headers, **answer.headers})


def _fill_message(
    body: dict[str, Any], request: dict[str, Any], use: CacheUse | None = None
) -> dict[str, Any]:
    # The real API echoes the model and names the tool the model called.
    choice = request.get("tool_choice") or {}
    tools = request.get("tools") or [{}]
    tool_name = choice.get("name") or tools[0].get("name")
    content = [
        {**block, "name": tool_name} if block.get("name", "") is None else block
        for block in body.get("content", [])
    ]
    filled = {"id": _id("msg_01"), "model": request["model"], **body, "content": content}
    usage = body.get("usage", {})
    if usage.get("output_tokens", 0) is None:  # a cut answer wrote all it was allowed
        filled["usage"] = {**usage, "output_tokens": request["max_tokens"]}
    if use is not None and "usage" in filled:
        filled["usage"] = {
            **filled["usage"],
            "input_tokens": use.input_tokens,
            "cache_creation_input_tokens": use.cache_creation_input_tokens,
            "cache_read_input_tokens": use.cache_read_input_tokens,
        }
    return filled


def _stream(message: dict[str, Any], answer: Answer, ended: Callable[[], None]) -> httpx2.Response:
    """The message as server-sent events; `generation` seconds pass after `message_start`."""

    async def events() -> AsyncIterator[bytes]:
        for chunk in start_events(message):
            yield chunk
        if answer.generation:
            await asyncio.sleep(answer.generation)
        if answer.hold is not None:
            await answer.hold.wait()
        if answer.stream_error is not None:
            ended()
            yield error_event(answer.stream_error)
            return
        for chunk in rest_events(message):
            yield chunk
        ended()

    headers = {
        "date": formatdate(usegmt=True),
        "request-id": _id("req_011C"),
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        **answer.headers,
    }
    return httpx2.Response(200, headers=headers, content=events())


def _unstreamed(stream_error: dict[str, Any]) -> Answer:
    """A mid-stream error as a request without streaming gets it: a status error."""
    kind = stream_error.get("error", {}).get("type")
    status = {"overloaded_error": 529, "rate_limit_error": 429}.get(kind, 500)
    return Answer(status=status, body=stream_error)


def overloaded_mid_stream() -> Answer:
    """The response begins, then the API reports an overload instead of the content."""
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    return replace(tool_answer({}), stream_error=body)


def request_problem(body: dict[str, Any]) -> str | None:
    """The API's complaint about a Messages request body, or None when it would be accepted."""
    for name in body:
        if name not in _BODY_FIELDS:
            return f"{name}: Extra inputs are not permitted"
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            return f"{name}: Field required"
    if not isinstance(body["model"], str) or not body["model"]:
        return "model: String should have at least 1 character"
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        return "max_tokens: Input should be greater than or equal to 1"
    if not isinstance(body.get("stream", False), bool):
        return "stream: Input should be a valid boolean"
    return (
        _system_problem(body.get("system"))
        or _messages_problem(body["messages"])
        or _tools_problem(body.get("tools"), body.get("tool_choice"))
        or _cache_problem(body)
        or thinking_problem(body)
    )


def _system_problem(system: Any) -> str | None:
    if system is None or isinstance(system, str):
        return None
    if not isinstance(system, list):
        return "system: Input should be a valid string or list"
    for i, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            return f"system.{i}.type: Input should be 'text'"
        problem = _block_problem(block, f"system.{i}")
        if problem:
            return problem
    return None


def _messages_problem(messages: Any) -> str | None:
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    pending: set[str] = set()  # tool_use ids the next user turn must answer
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role == "system":
            return f"messages.{i}.role: FakeAnthropic does not model 'system' turns"
        if role not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        expected = "user" if i % 2 == 0 else "assistant"
        if role != expected:
            if i == 0:
                return 'messages: first message must use the "user" role'
            return f'messages: roles must alternate between "user" and "assistant", but found multiple "{role}" roles in a row'  # noqa: E501
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list) or (not content and i < len(messages) - 1):
            return f"messages.{i}: all messages must have non-empty content except for the optional final assistant message"  # noqa: E501
        problem = (
            _user_turn_problem(content, pending, i)
            if role == "user"
            else _assistant_turn_problem(content, i)
        )
        if problem:
            return problem
        pending = {b["id"] for b in content if b.get("type") == "tool_use"}
    if pending:
        ids = ", ".join(sorted(pending))
        return f"messages.{len(messages) - 1}: `tool_use` ids were found without `tool_result` blocks immediately after: {ids}. Each `tool_use` block must have a corresponding `tool_result` block in the next message."  # noqa: E501
    return None


def _user_turn_problem(content: list[Any], pending: set[str], i: int) -> str | None:
    answered: set[str] = set()
    seen_other = False
    for j, block in enumerate(content):
        where = f"messages.{i}.content.{j}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "tool_result":
            if seen_other:
                return f"{where}: tool_result blocks must come first in the user message, before any other content"  # noqa: E501
            tool_use_id = block.get("tool_use_id")
            if tool_use_id not in pending:
                return f"{where}: unexpected `tool_use_id` found in `tool_result` blocks: {tool_use_id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."  # noqa: E501
            if not isinstance(block.get("is_error", False), bool):
                return f"{where}.is_error: Input should be a valid boolean"
            result = block.get("content", "")
            if not isinstance(result, str | list):
                return f"{where}.content: Input should be a valid string or list"
            answered.add(tool_use_id)
        elif kind == "text":
            seen_other = True
            problem = _block_problem(block, where)
            if problem:
                return problem
        else:
            return f"{where}.type: Input tag '{kind}' is not supported in a user message here"
    missing = pending - answered
    if missing:
        ids = ", ".join(sorted(missing))
        return f"messages.{i - 1}: `tool_use` ids were found without `tool_result` blocks immediately after: {ids}. Each `tool_use` block must have a corresponding `tool_result` block in the next message."  # noqa: E501
    return None


def _assistant_turn_problem(content: list[Any], i: int) -> str | None:
    for j, block in enumerate(content):
        where = f"messages.{i}.content.{j}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            problem = _block_problem(block, where)
        elif kind == "tool_use":
            problem = _tool_use_problem(block, where)
        elif kind in ("thinking", "redacted_thinking"):
            problem = thinking_block_problem(block, where)
        else:
            problem = f"{where}.type: Input tag '{kind}' is not supported in an assistant message"
        if problem:
            return problem
    return None


def _block_problem(block: dict[str, Any], where: str) -> str | None:
    text = block.get("text")
    if not isinstance(text, str):
        return f"{where}.text: Field required"
    if not text:
        return f"{where}.text: text content blocks must be non-empty"
    return None


def _tool_use_problem(block: dict[str, Any], where: str) -> str | None:
    if not isinstance(block.get("id"), str) or not _TOOL_ID.match(block["id"]):
        return f"{where}.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
    if not isinstance(block.get("name"), str) or not block["name"]:
        return f"{where}.name: Field required"
    if not isinstance(block.get("input"), dict):
        return f"{where}.input: Input should be a valid dictionary"
    return None


def _tools_problem(tools: Any, tool_choice: Any) -> str | None:
    names: list[str] = []
    for i, tool in enumerate(tools or []):
        if not isinstance(tool.get("name"), str) or not tool["name"]:
            return f"tools.{i}.name: Field required"
        schema = tool.get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            return f"tools.{i}.input_schema.type: Input should be 'object'"
        if tool.get("strict") and not _closed(schema):
            return f"tools.{i}.input_schema: For 'object' type, 'additionalProperties' must be explicitly set to false"  # noqa: E501
        names.append(tool["name"])
    if tool_choice is None:
        return None
    kind = tool_choice.get("type")
    if kind not in ("auto", "any", "tool", "none"):
        return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'"
    if kind == "tool" and tool_choice.get("name") not in names:
        return f"tool_choice.name: tool '{tool_choice.get('name')}' was not found in tools"
    return None


def _closed(schema: Any) -> bool:
    """Every object schema in `schema` (nested, in $defs, in anyOf...) forbids extra keys."""
    if isinstance(schema, list):
        return all(_closed(s) for s in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
        return False
    return all(_closed(v) for k, v in schema.items() if k not in ("enum", "const", "default"))


def _cache_problem(body: dict[str, Any]) -> str | None:
    found = json.dumps(body).count('"cache_control"')
    if found > _MAX_CACHE_BREAKPOINTS:
        return f"A maximum of {_MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {found}."  # noqa: E501
    return None
