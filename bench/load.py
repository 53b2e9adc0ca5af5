"""A small closed-loop HTTP/1.1 load client on a raw asyncio (uvloop) protocol.

It measures what `wrk` cannot: time to the first body byte of a streamed
answer, and exact latency percentiles at one connection. Each connection is
kept alive and sends its next request when the previous answer is complete;
answers with `Content-Length` and chunked answers are both understood.
It is also the fallback load generator when `wrk` is missing.

    .venv/bin/python bench/load.py http://127.0.0.1:8011/v1/chat/completions --connections 32 --stream
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

BODY = {"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}


def request_body(stream: bool) -> bytes:
    """The benchmark's chat-completion request body."""
    return json.dumps(BODY | {"stream": True} if stream else BODY, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Target:
    """Where to send, and the request to send there again and again."""

    url: str
    body: bytes
    key: str | None = None

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    def request(self) -> bytes:
        """The raw HTTP request."""
        parts = urlsplit(self.url)
        host, port = self.address
        lines = [
            f"POST {parts.path or '/'} HTTP/1.1",
            f"Host: {host}:{port}",
            "Content-Type: application/json",
            f"Content-Length: {len(self.body)}",
        ]
        if self.key:
            lines.append(f"Authorization: Bearer {self.key}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class Result:
    """What one load phase saw: per-request latency and time to first body byte, in seconds."""

    connections: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_bytes: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return self.count / self.seconds if self.seconds else 0.0

    def latency_ms(self, pct: float) -> float:
        return percentile(self.latencies, pct) * 1000

    def first_byte_ms(self, pct: float) -> float:
        return percentile(self.first_bytes, pct) * 1000


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile (`pct` in 0..100) of `values`; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


class _Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[int] | None = None
        self.first_byte = 0.0
        self._reset()

    def _reset(self) -> None:
        self.buffer = b""
        self.status = 0
        self.length: int | None = None  # Content-Length, or None for a chunked body
        self.in_body = False
        self.first_byte = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, request: bytes) -> asyncio.Future[int]:
        """Write `request`; the future gives the answer's status once it is complete."""
        assert self.transport is not None
        self._reset()
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.done

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.in_body:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self._head(self.buffer[:end])
            self.buffer = self.buffer[end + 4 :]
        if self.buffer and not self.first_byte:
            self.first_byte = time.perf_counter()
        if self._complete():
            self._finish()

    def _head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        self.status = int(lines[0].split(b" ", 2)[1])
        self.in_body = True
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                self.length = int(value)

    def _complete(self) -> bool:
        """Whether the whole body is in; chunk framing is consumed as it arrives."""
        if self.length is not None:
            return len(self.buffer) >= self.length
        while True:
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                return False
            size = int(self.buffer[:line_end].split(b";", 1)[0], 16)
            if size == 0:
                return self.buffer.find(b"\r\n", line_end + 2) >= 0  # no trailers are sent
            if len(self.buffer) < line_end + 2 + size + 2:
                return False
            self.buffer = self.buffer[line_end + 2 + size + 2 :]

    def _finish(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(self.status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError("closed by the server"))


async def _worker(target: Target, deadline: float, result: Result) -> None:
    """Send requests back to back on one connection (reconnecting after a failure) until `deadline`."""
    loop = asyncio.get_running_loop()
    request = target.request()
    connection: _Connection | None = None
    while time.perf_counter() < deadline:
        if connection is None or connection.transport is None:
            try:
                _, connection = await loop.create_connection(_Connection, *target.address)
            except OSError:
                result.errors += 1
                await asyncio.sleep(0.01)
                continue
        started = time.perf_counter()
        try:
            status = await connection.send(request)
        except ConnectionError:
            result.errors += 1
            connection = None
            continue
        finished = time.perf_counter()
        if 200 <= status < 300:
            result.latencies.append(finished - started)
            result.first_bytes.append(connection.first_byte - started)
        else:
            result.errors += 1
    if connection is not None and connection.transport is not None:
        connection.transport.close()


async def run(target: Target, connections: int, seconds: float) -> Result:
    """Load `target` with `connections` closed-loop connections for `seconds`."""
    result = Result(connections)
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_worker(target, deadline, result) for _ in range(connections)))
    result.seconds = time.perf_counter() - started
    return result


def install_uvloop() -> None:
    """Use uvloop's event loop when it is installed."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def main() -> None:
    """Run one phase from the command line and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="e.g. http://127.0.0.1:3000/api/v1/chat/completions")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--stream", action="store_true", help='send "stream": true')
    parser.add_argument("--key", help="API key for Authorization: Bearer")
    args = parser.parse_args()
    install_uvloop()
    result = asyncio.run(run(Target(args.url, request_body(args.stream), args.key), args.connections, args.seconds))
    print(
        f"{result.count} requests in {result.seconds:.1f}s: {result.rate:,.0f}/s, errors {result.errors}; "
        f"latency p50 {result.latency_ms(50):.3f} ms p99 {result.latency_ms(99):.3f} ms; "
        f"first byte p50 {result.first_byte_ms(50):.3f} ms p99 {result.first_byte_ms(99):.3f} ms"
    )


if __name__ == "__main__":
    main()
