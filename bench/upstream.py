"""A fast fake OpenAI upstream for the benchmark: precomputed answers over a raw asyncio (uvloop) protocol.

Every POST is answered as `/chat/completions`: a fixed `chat.completion` JSON
with usage, or, when the body asks for `"stream": true`, 20 `data: {chunk}`
events, a usage chunk when `stream_options.include_usage` is set, and
`data: [DONE]`, in chunked transfer encoding. Any GET answers `{"ok":true}`.
Connections are kept alive and requests may be pipelined. Nothing is parsed
beyond the request line, `Content-Length` and the two stream flags, so this
server costs far less per request than anything put in front of it.

    .venv/bin/python bench/upstream.py --port 8011 [--chunk-delay-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal

CHUNKS = 20
MODEL = "gpt-4"
CREATED = 1_700_000_000
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:\s*(\d+)")
_STREAM = re.compile(rb'"stream"\s*:\s*true')
_INCLUDE_USAGE = re.compile(rb'"include_usage"\s*:\s*true')
_HEAD_END = b"\r\n\r\n"


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _usage() -> dict[str, int]:
    return {"prompt_tokens": 8, "completion_tokens": CHUNKS, "total_tokens": 8 + CHUNKS}


def completion_response() -> bytes:
    """The whole HTTP response to a non-stream request."""
    body = _json(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": CREATED,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "你好! " + "word " * (CHUNKS - 1)},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(),
        }
    )
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _chunked(payload: bytes) -> bytes:
    """One piece of a chunked body."""
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _event(value: object) -> bytes:
    return _chunked(b"data: " + _json(value) + b"\n\n")


def stream_events(include_usage: bool) -> list[bytes]:
    """The pieces of a stream response, each to be written on its own: head, 20 chunks, [usage], [DONE], end."""
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": CREATED, "model": MODEL}
    pieces = [b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"]
    for index in range(CHUNKS):
        delta = {"role": "assistant", "content": "你好! "} if index == 0 else {"content": "word "}
        last = index == CHUNKS - 1
        choice = {"index": 0, "delta": delta, "finish_reason": "stop" if last else None}
        pieces.append(_event(base | {"choices": [choice]}))
    if include_usage:
        pieces.append(_event(base | {"choices": [], "usage": _usage()}))
    pieces.append(_chunked(b"data: [DONE]\n\n") + b"0\r\n\r\n")
    return pieces


HEALTH = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
COMPLETION = completion_response()
STREAM = stream_events(include_usage=False)
STREAM_WITH_USAGE = stream_events(include_usage=True)


class FakeOpenAI(asyncio.Protocol):
    """One keep-alive connection: parse each request just enough to pick its precomputed answer."""

    chunk_delay = 0.0  # seconds between stream events; 0 writes them back to back

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.pacing: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(_HEAD_END)) >= 0:
            head = self.buffer[:end]
            length_match = _CONTENT_LENGTH.search(head)
            length = int(length_match[1]) if length_match else 0
            total = end + 4 + length
            if len(self.buffer) < total:
                return  # the body has not all arrived
            body = self.buffer[end + 4 : total]
            self.buffer = self.buffer[total:]
            self.answer(head.startswith(b"POST"), body)

    def answer(self, post: bool, body: bytes) -> None:
        """Write the answer to one request."""
        assert self.transport is not None
        if not post:
            self.transport.write(HEALTH)
        elif not _STREAM.search(body):
            self.transport.write(COMPLETION)
        else:
            pieces = STREAM_WITH_USAGE if _INCLUDE_USAGE.search(body) else STREAM
            if self.chunk_delay:
                task = asyncio.ensure_future(self.paced(pieces))
                self.pacing.add(task)
                task.add_done_callback(self.pacing.discard)
            else:
                for piece in pieces:  # one write per event, as a real upstream sends them
                    self.transport.write(piece)

    async def paced(self, pieces: list[bytes]) -> None:
        """Write the stream with `chunk_delay` between events (pipelined requests then may interleave)."""
        for piece in pieces:
            if self.transport is None or self.transport.is_closing():
                return
            self.transport.write(piece)
            await asyncio.sleep(self.chunk_delay)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FakeOpenAI, host, port, backlog=4096, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"fake OpenAI upstream on http://{host}:{port}/v1", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    """Parse the options and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0, help="pause between stream events")
    args = parser.parse_args()
    FakeOpenAI.chunk_delay = args.chunk_delay_ms / 1000
    try:
        import uvloop
    except ImportError:  # plain asyncio works, a little slower
        asyncio.run(serve(args.host, args.port))
    else:
        uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
