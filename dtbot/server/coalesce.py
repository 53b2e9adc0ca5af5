"""Fewer socket writes for streams: body parts produced in one turn of the event loop go out as one.

A streamed answer relays many small events; when the upstream's read brought
several at once, they are produced without the handler ever waiting, and
writing each on its own costs a system call apiece. This wrapper collects
`more_body` parts and writes them together as soon as the handler waits
(typically for the upstream's next read), so the first byte is not delayed.
"""

from __future__ import annotations

import asyncio
import contextlib

from litestar.types import ASGIApp, Message, Receive, Scope, Send


class _Coalescing:
    def __init__(self, send: Send) -> None:
        self._send = send
        self._parts: list[bytes] = []
        self._flush: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None

    async def __call__(self, message: Message) -> None:
        if self._failure is not None:
            raise self._failure
        if message["type"] == "http.response.body" and message.get("more_body"):
            self._parts.append(message.get("body", b""))
            if self._flush is None:
                self._flush = asyncio.get_running_loop().create_task(self._write())
            return
        await self.drain()
        if message["type"] == "http.response.body" and self._parts:
            message = {**message, "body": b"".join([*self._parts, message.get("body", b"")])}
            self._parts.clear()
        await self._send(message)

    async def _write(self) -> None:
        # Runs once the handler has yielded to the loop: everything produced until then goes in one write.
        try:
            while self._parts:
                body, self._parts = b"".join(self._parts), []
                await self._send({"type": "http.response.body", "body": body, "more_body": True})
        except BaseException as error:  # the client went away: the handler hears of it on its next send
            self._failure = error
        finally:
            self._flush = None

    async def drain(self) -> None:
        """Wait for a write under way."""
        if self._flush is not None:
            await self._flush

    def cancel(self) -> None:
        if self._flush is not None:
            self._flush.cancel()


def coalesce_middleware(app: ASGIApp) -> ASGIApp:
    """ASGI middleware applying the coalescing to every HTTP response (single-part ones pass as they are)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        coalescing = _Coalescing(send)
        try:
            await app(scope, receive, coalescing)
            with contextlib.suppress(Exception):
                await coalescing.drain()
        finally:
            coalescing.cancel()

    return middleware
