"""Server-sent events (the WHATWG `text/event-stream` format), parsed from bytes as they arrive.

    parser = EventParser(max_event_bytes=4 * 1024 * 1024)
    for item in parser.feed(chunk):          # chunk: any slice of the stream
        if isinstance(item, Event): ...      # a dispatched event
        else: ...                            # Oversized: an event dropped unread
    parser.retry_ms                          # the last valid `retry:` field, or None

Lines end in CRLF, LF or CR (a CR at the end of one chunk and an LF at the start of the next are
one line end); a blank line dispatches the event; a line starting with ':' is a comment; a field
without ':' has an empty value; one space after the ':' is dropped; `data` lines are joined with
'\\n'; an event with no data is not dispatched; `retry` must be digits. Bytes are UTF-8, and
anything that is not is replaced, never an error.

An `id` is kept only when it is printable ASCII of at most `MAX_ID_CHARS` characters, and
ignored otherwise (the standard ignores only one with a NUL): it goes back to the channel as
the `Last-Event-ID` header on every reconnection, where anything else cannot be sent (a
non-ASCII id failed every reconnection, for ever) or should not be (a 4 MB header).

Memory is bounded whatever the channel sends: the event being read (its data, and the line not
yet ended) is held up to `max_event_bytes`; past it the parser keeps only whether the current
line is empty until the blank line that ends the event, and reports it as `Oversized`. Each byte
is looked at a bounded number of times, so parsing is linear in the stream's length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LF, _CR = 0x0A, 0x0D
MAX_ID_CHARS = 256
_NOT_LINE_END = re.compile(rb"[^\r\n]")


@dataclass(frozen=True, slots=True)
class Event:
    type: str  # "message" unless an `event:` field named it
    data: str
    id: str  # the last event id seen on the stream (sticky, as EventSource's)


@dataclass(frozen=True, slots=True)
class Oversized:
    """An event dropped because it (or one of its lines) went over the cap."""

    limit: int


class EventParser:
    def __init__(self, max_event_bytes: int) -> None:
        self.max_event_bytes = max_event_bytes
        self.retry_ms: int | None = None
        self.last_id = ""
        self._line = bytearray()  # the current line, not yet ended
        self._after_cr = False  # the last byte seen was a CR: a leading LF is part of its end
        self._data: list[str] = []
        self._data_bytes = 0
        self._type = ""
        self._id: str | None = None
        self._skipping = False  # the event went over the cap: drop it up to its blank line
        self._skipped_line_empty = True

    def feed(self, chunk: bytes) -> list[Event | Oversized]:
        out: list[Event | Oversized] = []
        view = memoryview(chunk)
        start, size = 0, len(chunk)
        if self._after_cr and size and chunk[0] == _LF:
            start = 1
        self._after_cr = False
        # The next CR and LF at or after `start`, each searched for again only once passed:
        # every byte is scanned at most twice, whatever mix of line ends the chunk holds.
        next_cr = next_lf = -2
        while start < size:
            if self._clean():
                # Blank lines between events change nothing: step over a run of them at once.
                found = _NOT_LINE_END.search(chunk, start)
                start = size if found is None else found.start()
                if start == size:
                    break
            if next_cr != -1 and next_cr < start:
                next_cr = chunk.find(b"\r", start)
            if next_lf != -1 and next_lf < start:
                next_lf = chunk.find(b"\n", start)
            end = min(next_cr, next_lf) if next_cr >= 0 and next_lf >= 0 else max(next_cr, next_lf)
            if end < 0:
                self._extend(view[start:])
                break
            self._extend(view[start:end])
            self._end_line(out)
            start = end + 1
            if chunk[end] == _CR:
                if start == size:
                    self._after_cr = True
                elif chunk[start] == _LF:
                    start += 1
        return out

    def _clean(self) -> bool:
        """Between events: nothing read of the next one, so a blank line would do nothing."""
        return not (self._line or self._data or self._type or self._skipping) and self._id is None

    def _extend(self, piece: memoryview) -> None:
        if not piece:
            return
        if self._skipping:
            self._skipped_line_empty = False
            return
        if self._data_bytes + len(self._line) + len(piece) > self.max_event_bytes:
            self._start_skipping()
            return
        self._line += piece

    def _start_skipping(self) -> None:
        self._skipping = True
        self._skipped_line_empty = False
        self._line = bytearray()
        self._data, self._data_bytes = [], 0

    def _end_line(self, out: list[Event | Oversized]) -> None:
        if self._skipping:
            if self._skipped_line_empty:  # the blank line that ends the dropped event
                self._skipping = False
                self._reset_event()
                out.append(Oversized(self.max_event_bytes))
            self._skipped_line_empty = True
            return
        line = bytes(self._line).decode("utf-8", "replace")
        self._line = bytearray()
        if not line:
            self._dispatch(out)
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            self._field(name, value[1:] if value.startswith(" ") else value)

    def _field(self, name: str, value: str) -> None:
        if name == "data":
            self._data.append(value)
            self._data_bytes += len(value) + 1
        elif name == "event":
            self._type = value
        elif name == "id":
            if _sendable_id(value):
                self._id = value
        elif name == "retry" and value.isascii() and value.isdigit() and len(value) <= 9:
            self.retry_ms = int(value)

    def _dispatch(self, out: list[Event | Oversized]) -> None:
        if self._id is not None:
            self.last_id = self._id
        if self._data:
            out.append(Event(self._type or "message", "\n".join(self._data), self.last_id))
        self._reset_event()

    def _reset_event(self) -> None:
        self._data, self._data_bytes = [], 0
        self._type = ""
        self._id = None


def _sendable_id(value: str) -> bool:
    """An id that can go back as an HTTP header's value, and a short one."""
    return len(value) <= MAX_ID_CHARS and value.isascii() and value.isprintable()
