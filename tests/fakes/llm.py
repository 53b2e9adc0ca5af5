"""A fake LLM server on 127.0.0.1: four real wire formats, every request recorded, faults on demand.

Three ways to run it, all on a free port unless one is given:

- in the test's own event loop: `async with FakeLLM() as fake: ...`
- in a thread with its own loop, for blocking clients or a `dtbot serve`
  subprocess: `with FakeLLM.in_thread() as fake: ...`
- as a process: `python -m tests.fakes.llm --port 8900` prints its base URLs
  as one JSON line and serves until interrupted.

`fake.base_url(kind)` is the base URL to configure for a provider of that kind
("openai", "zhipu", "dashscope", "anthropic"). `fake.requests` holds a
`RecordedRequest` per request received (also those it then failed), and
`fake.clear()` forgets them; over HTTP, `GET /_fake/requests` lists them and
`DELETE /_fake/requests` clears them. Faults are switched on by a marker in
the last user message: see `tests.fakes.script`. For a refused connection,
point a provider at `free_port()`, where nothing listens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
from collections import Counter
from contextlib import suppress
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from aiohttp import web

from tests.fakes.dialects import DIALECTS, DONE, Dialect, Frame
from tests.fakes.script import Answer, Behaviour, build_answer, find_marker, message_text
from tests.fakes.serving import ServedFake

DISCONNECT_GRACE = 0.1  # seconds between the last frame and a dropped connection, so the client has read them


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received: header names in lower case, the body parsed when it is JSON."""

    kind: str
    path: str
    headers: dict[str, str]
    body: Any
    peer_port: int  # the client's port: equal across requests that reused one pooled connection


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeLLM(ServedFake):
    """The fake server; see the module docstring."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.requests: list[RecordedRequest] = []
        self._misbehaved: Counter[str] = Counter()  # marker → requests it has spoiled, for `times=N`
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://127.0.0.1:{self.port}"

    def base_url(self, kind: str) -> str:
        """The base URL a provider of `kind` is configured with."""
        return self.url + DIALECTS[kind].base

    def clear(self) -> None:
        """Forget the recorded requests and the `times=N` counts."""
        self.requests.clear()
        self._misbehaved.clear()

    def bodies(self, kind: str | None = None) -> list[Any]:
        """The bodies received, of one kind or all."""
        return [r.body for r in self.requests if kind is None or r.kind == kind]

    # Running.

    async def start(self) -> None:
        """Listen on 127.0.0.1 in the running loop."""
        app = web.Application()
        for dialect in DIALECTS.values():
            app.router.add_post(dialect.base + dialect.path, partial(self._handle, dialect))
        app.router.add_get("/_fake/requests", self._list)
        app.router.add_delete("/_fake/requests", self._clear)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # Serving.

    async def _handle(self, dialect: Dialect, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {name.lower(): value for name, value in request.headers.items()}
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.requests.append(RecordedRequest(dialect.kind, request.path, headers, body, peer[1] if peer else 0))
        try:
            behaviour = self._behaviour(body)
        except ValueError as exc:
            return web.json_response(dialect.error_body(400, None, str(exc)), status=400)
        if behaviour.reset:
            return _drop(request)
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        refusal = dialect.check(headers, body)
        if refusal is not None:
            return web.json_response(refusal[1], status=refusal[0])
        if behaviour.status:
            return _error(dialect, behaviour, headers)
        answer = build_answer(body, behaviour, system=message_text(body.get("system")))
        if body.get("stream") and not behaviour.ignore_stream:
            return await _stream(request, dialect, answer, body, behaviour)
        return await _complete(request, dialect, answer, behaviour)

    def _behaviour(self, body: Any) -> Behaviour:
        marker = find_marker(body)
        if marker is None:
            return Behaviour()
        behaviour = Behaviour.parse(marker)
        if behaviour.times is not None:
            if self._misbehaved[marker] >= behaviour.times:
                return Behaviour()
            self._misbehaved[marker] += 1
        return behaviour

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response([asdict(r) for r in self.requests])

    async def _clear(self, request: web.Request) -> web.Response:
        self.clear()
        return web.Response(status=204)


def _error(dialect: Dialect, behaviour: Behaviour, headers: dict[str, str]) -> web.Response:
    status = behaviour.status or 500
    message = f"fake HTTP {status}"
    if behaviour.echo_key:
        key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        message = f"Incorrect API key provided: {key}. You can find your API key in your account settings."
    extra = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else None
    body = dialect.error_body(status, behaviour.code, message, behaviour.toplevel)
    return web.json_response(body, status=status, headers=extra)


async def _complete(request: web.Request, dialect: Dialect, answer: Answer, behaviour: Behaviour) -> web.StreamResponse:
    if behaviour.malformed_json:
        return web.Response(body=b'{"id": "chatcmpl-fake", "choices": [', content_type="application/json")
    if behaviour.inband_error:
        return web.json_response(dialect.inband_error(behaviour.code))
    if behaviour.disconnect_after is None:
        return web.json_response(dialect.completion(answer, behaviour))
    payload = json.dumps(dialect.completion(answer, behaviour)).encode()
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = len(payload)
    await response.prepare(request)
    await response.write(payload[: len(payload) // 2])
    await asyncio.sleep(DISCONNECT_GRACE)
    return _drop(request, response)


async def _stream(
    request: web.Request, dialect: Dialect, answer: Answer, body: dict[str, Any], behaviour: Behaviour
) -> web.StreamResponse:
    head, frames, tail = dialect.stream(answer, body, behaviour)
    if behaviour.inband_error:
        frames = [*frames[: behaviour.error_after], (dialect.error_event, dialect.inband_error(behaviour.code))]
        tail = []
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    for i, frame in enumerate([*head, *frames, *tail]):
        answer_frame = i - len(head)
        if answer_frame == behaviour.disconnect_after:
            await asyncio.sleep(DISCONNECT_GRACE)
            return _drop(request, response)
        data = _frame(frame, behaviour, broken=behaviour.malformed_json and answer_frame == 1)
        step = behaviour.split or len(data)
        for start in range(0, len(data), step):
            await response.write(data[start : start + step])
        if behaviour.chunk_delay:
            await asyncio.sleep(behaviour.chunk_delay)
    await response.write_eof()
    return response


def _frame(frame: Frame, behaviour: Behaviour, *, broken: bool) -> bytes:
    """One event as bytes, framed as the behaviour asks."""
    name, payload = frame
    text = payload if payload == DONE else json.dumps(payload, ensure_ascii=False)
    if broken:
        text = text[: len(text) // 2]
    if behaviour.malformed_sse:
        return f"{text}\n".encode()
    # Two data lines are joined with a newline, which JSON allows after the opening brace.
    split = behaviour.multiline and text != DONE
    data = f"data: {text[:1]}\ndata: {text[1:]}\n" if split else f"data: {text}\n"
    event = (f"event: {name}\n" if name else "") + data + "\n"
    if behaviour.keepalive:
        event = ": keep-alive\n\n" + event
    if behaviour.crlf:
        event = event.replace("\n", "\r\n")
    return event.encode()


def _drop(request: web.Request, response: web.StreamResponse | None = None) -> web.StreamResponse:
    """Close the connection: at once when nothing was sent (a reset), after the data sent otherwise."""
    if request.transport is not None:
        if response is None:
            request.transport.abort()
        else:
            request.transport.close()
    return response or web.Response()


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted, printing the base URLs as JSON."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.llm", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)

    async def serve() -> None:
        async with FakeLLM(args.port) as fake:
            print(json.dumps({kind: fake.base_url(kind) for kind in DIALECTS}), flush=True)
            await asyncio.Event().wait()

    with suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
