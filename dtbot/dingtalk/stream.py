"""Stream mode: robot messages over DingTalk's Stream WebSocket, so no public address is needed.

The protocol, as the official SDK (`dingtalk-stream`) speaks it:
`POST {api_base}/v1.0/gateway/connections/open` with the app's credentials
and subscriptions answers `{"endpoint": "wss://…", "ticket": "…"}`; the client
connects to `endpoint?ticket=…` (a ticket serves once). Frames are JSON
`{"specVersion", "type": "SYSTEM"|"EVENT"|"CALLBACK", "headers": {"topic",
"messageId", …}, "data": "<JSON string>"}`, each answered by an ACK
`{"code", "headers": {"contentType", "messageId"}, "message", "data"}`. A
SYSTEM `ping` is answered with its own data (the pong); a SYSTEM `disconnect`
means DingTalk is about to close the socket, so we close it and reconnect.

We speak it with aiohttp rather than the SDK, which posts with the blocking
`requests` library and reads its base URL from the environment at import.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import msgspec
from yarl import URL

from dtbot.dingtalk.incoming import IncomingMessage, parse_callback
from dtbot.errors import DtbotError

BOT_TOPIC = "/v1.0/im/bot/messages/get"
PING, DISCONNECT = "ping", "disconnect"
OK, BAD_REQUEST, NOT_IMPLEMENTED, FAILED = 200, 400, 404, 500
STABLE_SECONDS = 30.0  # a connection that lasted this long resets the backoff
HANDLER_GRACE = 5.0  # seconds `stop()` lets running handlers finish before cancelling them
_log = logging.getLogger("dtbot.dingtalk.stream")

try:
    USER_AGENT = f"dtbot/{importlib.metadata.version('dtbot')}"
except importlib.metadata.PackageNotFoundError:
    USER_AGENT = "dtbot"

Handler = Callable[[IncomingMessage], Awaitable[None]]


class StreamError(Exception):
    """The gateway refused or could not be reached; the message holds no secret."""


class StreamReceiver:
    """Receives robot messages and hands each to `on_message`, then ACKs it; reconnects until stopped.

    `backoff` is the first wait before reconnecting, doubled after each quick
    failure up to `max_backoff`; `heartbeat` is the WebSocket ping interval
    that detects a dead connection.
    """

    def __init__(
        self,
        api_base: str,
        app_key: str,
        app_secret: str,
        on_message: Handler,
        *,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        heartbeat: float = 30.0,
        timeout: float = 10.0,
    ) -> None:
        self.api_base = URL(api_base.rstrip("/"))
        self.app_key = app_key
        self._app_secret = app_secret
        self._on_message = on_message
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._heartbeat = heartbeat
        self._timeout = timeout
        self._stopping = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._send_lock = asyncio.Lock()
        self._handlers: set[asyncio.Task[None]] = set()
        self.connections = 0  # connections opened so far, for health checks and tests

    async def run(self) -> None:
        """Connect, receive, reconnect with backoff; returns after `stop()`, or raises CancelledError."""
        delay = self._backoff
        # No session-wide timeout: it would cut the long-lived WebSocket; each step has its own.
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as http:
            while not self._stopping.is_set():
                started = time.monotonic()
                try:
                    endpoint = await self._open(http)
                    await self._receive(http, endpoint)
                except Exception as error:  # whatever went wrong, the receiver keeps trying until stopped
                    _log.warning("stream connection failed: %s", _describe(error))
                if time.monotonic() - started >= STABLE_SECONDS:
                    delay = self._backoff
                if self._stopping.is_set():
                    break
                _log.info("stream reconnecting in %.1fs", delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                delay = min(delay * 2, self._max_backoff)
        await self._finish_handlers()

    async def stop(self) -> None:
        """Close the connection and make `run()` return."""
        self._stopping.set()
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()

    # Connecting.

    async def _open(self, http: aiohttp.ClientSession) -> URL:
        """A one-time WebSocket URL from the gateway."""
        body = {
            "clientId": self.app_key,
            "clientSecret": self._app_secret,
            "subscriptions": [{"type": "CALLBACK", "topic": BOT_TOPIC}],
            "ua": USER_AGENT,
            "localIp": _local_ip(),
        }
        url = self.api_base / "v1.0/gateway/connections/open"
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with http.post(url, json=body, allow_redirects=False, timeout=timeout) as response:
            raw = await response.read()
            status = response.status
        try:
            answer = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            answer = None
        if status != 200 or not isinstance(answer, dict):
            code = answer.get("code") if isinstance(answer, dict) else None
            raise StreamError(f"connections/open: HTTP {status}" + (f" {code}" if code else ""))
        endpoint, ticket = answer.get("endpoint"), answer.get("ticket")
        if not isinstance(endpoint, str) or not isinstance(ticket, str) or not ticket:
            raise StreamError("connections/open: no endpoint or ticket in the answer")
        target = URL(endpoint)
        if target.scheme not in ("wss", "ws") or not target.host:
            raise StreamError("connections/open: the endpoint is not a WebSocket URL")
        return target.update_query(ticket=ticket)

    async def _receive(self, http: aiohttp.ClientSession, url: URL) -> None:
        """Read frames until the connection closes."""
        connecting = http.ws_connect(url, heartbeat=self._heartbeat, timeout=aiohttp.ClientWSTimeout(ws_close=5))
        async with await asyncio.wait_for(connecting, self._timeout) as ws:
            self._ws = ws
            self.connections += 1
            _log.info("stream connected to %s", url.origin())
            try:
                async for frame in ws:
                    if frame.type == aiohttp.WSMsgType.TEXT:
                        await self._dispatch(ws, frame.data)
                    elif frame.type == aiohttp.WSMsgType.ERROR:
                        raise StreamError(f"WebSocket error: {_describe(ws.exception())}")
            finally:
                self._ws = None
        _log.info("stream connection closed (code %s)", ws.close_code)

    # Frames.

    async def _dispatch(self, ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
        try:
            frame = json.loads(text)
            kind, headers = frame.get("type"), frame.get("headers") or {}
            topic, message_id = headers.get("topic"), headers.get("messageId")
        except (ValueError, AttributeError):
            _log.warning("stream: ignored a frame that is not a JSON object")
            return
        if kind == "SYSTEM":
            # The ACK of a ping echoes its data: that is the pong.
            await self._ack(ws, message_id, OK, "OK", frame.get("data") or "{}")
            if topic == DISCONNECT:
                _log.info("stream: DingTalk asks to reconnect")
                await ws.close()
        elif kind == "CALLBACK" and topic == BOT_TOPIC:
            task = asyncio.create_task(self._handle(ws, message_id, frame.get("data")), name="dingtalk-stream-message")
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        else:
            await self._ack(ws, message_id, NOT_IMPLEMENTED, "not implemented", json.dumps({"response": None}))

    async def _handle(self, ws: aiohttp.ClientWebSocketResponse, message_id: str | None, data: Any) -> None:
        """Parse the message, hand it on, and ACK it: 200 once handled, 400 when malformed, 500 when we failed."""
        code, reason = OK, "OK"
        try:
            payload = data.encode() if isinstance(data, str) else b""
            await self._on_message(parse_callback(payload))
        except DtbotError as error:
            code, reason = (BAD_REQUEST if error.is_user_error else FAILED), error.message
            _log.warning("stream message %s not handled: %s", message_id, error.message)
        except Exception:
            code, reason = FAILED, "handler failed"
            _log.exception("stream message %s: the handler failed", message_id)
        await self._ack(ws, message_id, code, reason, json.dumps({"response": None}))

    async def _ack(
        self, ws: aiohttp.ClientWebSocketResponse, message_id: str | None, code: int, reason: str, data: str
    ) -> None:
        ack = {
            "code": code,
            "headers": {"contentType": "application/json", "messageId": message_id},
            "message": reason,
            "data": data,
        }
        async with self._send_lock:
            if ws.closed:
                _log.info("stream: connection closed before the ACK of %s; DingTalk will resend it", message_id)
                return
            with contextlib.suppress(ConnectionError, aiohttp.ClientError):
                await ws.send_str(json.dumps(ack, ensure_ascii=False))

    async def _finish_handlers(self) -> None:
        if not self._handlers:
            return
        _done, pending = await asyncio.wait(set(self._handlers), timeout=HANDLER_GRACE)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _local_ip() -> str:
    """This host's address on its default route (DingTalk shows it); no packet is sent."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"


def _describe(error: BaseException | None) -> str:
    """An error without URLs: aiohttp's messages can hold the ticket in the URL."""
    if isinstance(error, StreamError):
        return str(error)
    return type(error).__name__ if error is not None else "unknown error"
