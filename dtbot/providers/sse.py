"""Server-sent events from a byte stream, whatever way it is cut into chunks."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import NamedTuple


class SSEError(ValueError):
    """The stream does not follow the event-stream format."""


class Event(NamedTuple):
    """One dispatched event; `event` is "" when the stream named none."""

    event: str
    data: bytes


_FIELDS = frozenset((b"data", b"event", b"id", b"retry"))


class SSEDecoder:
    """Turns chunks into events: lines end with LF or CRLF, a blank line dispatches.

    Lines that are neither a comment nor a known field raise `SSEError`: the
    specification would ignore them, but for an LLM upstream they mean the
    body is not an event stream at all, and saying so beats an empty answer.
    """

    __slots__ = ("_buffer", "_data", "_event")

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[Event]:
        """The events completed by `chunk`."""
        lines = (self._buffer + chunk).split(b"\n")
        self._buffer = lines.pop()  # the unfinished last line, often b""
        events: list[Event] = []
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if line:
                self._field(line)
            elif self._data:
                events.append(Event(self._event, b"\n".join(self._data)))
                self._event, self._data = "", []
            else:
                self._event = ""
        return events

    def close(self) -> list[Event]:
        """The event left when the stream ends without a final blank line."""
        return self.feed(b"\n\n") if self._buffer or self._data else []

    def _field(self, line: bytes) -> None:
        if line[0] == 0x3A:  # ":" starts a comment, used as a keep-alive
            return
        name, _, value = line.partition(b":")
        if name not in _FIELDS:
            raise SSEError(f"not an event stream line: {line[:80]!r}")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode()


async def iter_events(chunks: AsyncIterable[bytes]) -> AsyncIterator[Event]:
    """The events of a chunked body, the last one even without its blank line."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.close():
        yield event
