"""A fake DingTalk on 127.0.0.1: webhooks, the OpenAPI and the Stream gateway, every request recorded.

Run it like `tests.fakes.llm.FakeLLM`: `async with FakeDingTalk() as fake:` in
the test's loop, `with FakeDingTalk.in_thread() as fake:` for blocking callers
or a `dtbot serve` subprocess (then `fake.blocking(fake.push_bot_message(…))`
runs a coroutine in the fake's loop), or `python -m tests.fakes.dingtalk`.

What it serves (all on `fake.url`):

- `POST /robot/sendBySession?session=ID`: a sessionWebhook, any ID; answers
  `{"errcode": 0, "errmsg": "ok"}`; `session_messages(ID)` lists the bodies.
- `POST /robot/send?access_token=T&timestamp=…&sign=…`: a custom group robot
  registered with `add_robot(T, secret)`; checks the signature (when the robot
  has a secret), at most `robot_rate_limit` messages a minute per robot
  (errcode 130101) and `body_limit` bytes (errcode 460101);
  `robot_messages(T)` lists the bodies.
- `POST /v1.0/oauth2/accessToken`: checks `app_key`/`app_secret`, issues a new
  token valid `token_expire_in` seconds (`tokens`); `expire_tokens()` makes
  every token issued so far invalid (401 `InvalidAuthentication`).
- `POST /v1.0/robot/oToMessages/batchSend` and `/v1.0/robot/groupMessages/send`:
  check the `x-acs-dingtalk-access-token` header and the body, answer
  `{"processQueryKey": …}`; `openapi_messages()` lists `{"path", "body"}` of
  both in order, `batch_sends`/`group_sends` the bodies of each. User ids in
  `invalid_users` come back in `invalidStaffIdList`.
- `POST /v1.0/gateway/connections/open` → `{"endpoint": "ws://…/connect", "ticket"}`
  (recorded in `stream_opens`) and the WebSocket `GET /connect?ticket=…` (a
  ticket serves once). `await push_bot_message(payload)` (from another thread:
  `push_bot_message_threadsafe(payload)`) sends a robot message as DingTalk
  frames it and returns its messageId; `stream_connected()` says whether a
  client is connected; every frame the client sends is in `stream_received`,
  the ACKs of pushed messages in `stream_acks` and the answers to `ping()` in
  `stream_pongs` (both by messageId). `disconnect()` asks the client to
  reconnect, `drop_stream()` cuts the connection.
- `POST /_fake/redirect?to=URL`: a 307 to URL (clients must not follow it).
- `GET /_fake/requests`: the recorded requests, as JSON.

Settings to change in a test: `token_expire_in`, `body_limit`,
`robot_rate_limit`, `invalid_users`; `reset()` restores them.

Faults: `fail(kind, key=None, status=…, errcode=…, code=…, delay=…, drop=…,
times=…)` for kind "session" (key: a session id), "robot" (key: an access
token), "token", "batchSend", "groupSend" or "open"; `heal()` removes them.
`clear()` forgets everything recorded and switched.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from tests.fakes.serving import ServedFake

T = TypeVar("T")
BOT_TOPIC = "/v1.0/im/bot/messages/get"
WEBHOOK_MSGTYPES = ("text", "markdown", "link", "actionCard", "feedCard")
MSG_KEYS = ("sampleText", "sampleMarkdown", "sampleLink", "sampleImageMsg", "sampleActionCard")
MSG_KEYS += tuple(f"sampleActionCard{n}" for n in range(2, 7))
KINDS = ("session", "robot", "token", "batchSend", "groupSend", "open", "cardCreate", "cardStream")
DEFAULT_APP_KEY = "dingfakeappkey0001"
DEFAULT_APP_SECRET = "fake-app-secret-0123456789abcdefghijklmnopqrstuv"
SIGN_TOLERANCE_MS = 3_600_000


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received: header names in lower case, the body parsed when it is JSON."""

    kind: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    size: int  # bytes of the raw body


@dataclass
class Fault:
    """How to spoil requests: wait `delay`, then drop the connection, or answer `status`/`errcode`/`code`."""

    status: int | None = None  # an HTTP status to answer with
    errcode: int | None = None  # a webhook's errcode (answered with HTTP 200)
    code: str | None = None  # an OpenAPI error code (answered with `status`, 400 by default)
    message: str = "fake failure"
    delay: float = 0.0
    drop: bool = False
    times: int | None = None  # how many requests to spoil; None: until `heal()`
    spoiled: int = field(default=0, init=False)


def dingtalk_sign(timestamp: str, secret: str) -> str:
    """DingTalk's signature, written here again so that the fake checks our code rather than trusting it."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_callback_headers(app_secret: str, now_ms: int | None = None) -> dict[str, str]:
    """The `timestamp` and `sign` headers DingTalk sends with a robot callback."""
    timestamp = str(int(time.time() * 1000) if now_ms is None else now_ms)
    return {"timestamp": timestamp, "sign": dingtalk_sign(timestamp, app_secret)}


def callback_payload(
    text: str,
    *,
    session_webhook: str,
    group: bool = False,
    sender: str = "staff1",
    msg_id: str | None = None,
    expires_ms: int | None = None,
    at_bot: bool = True,
    bot: str = "dingfakebot",
    msgtype: str = "text",
    content: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A robot callback as DingTalk sends it; in a group `text.content` starts with a space (the @ removed).

    For other message types give `msgtype` and its `content` (then `text` is unused).
    """
    now = int(time.time() * 1000)
    payload: dict[str, Any] = {
        "conversationType": "2" if group else "1",
        "conversationId": "cidfakegroup0001==" if group else f"cidfake{sender}==",
        "atUsers": [{"dingtalkId": f"$:LWCP_v1:${bot}"}] if group and at_bot else [],
        "chatbotUserId": f"$:LWCP_v1:${bot}",
        "chatbotCorpId": "dingfakecorp",
        "robotCode": bot,
        "msgId": msg_id or f"msg{uuid.uuid4().hex}",
        "msgtype": msgtype,
        "createAt": now,
        "isAdmin": False,
        "isInAtList": group and at_bot,
        "sessionWebhook": session_webhook,
        "sessionWebhookExpiredTime": now + 90 * 60_000 if expires_ms is None else expires_ms,
        "senderNick": f"用户{sender}",
        "senderId": f"$:LWCP_v1:${sender}",
        "senderStaffId": sender,
        "senderCorpId": "dingfakecorp",
    }
    if group:
        payload["conversationTitle"] = "测试群"
    if msgtype == "text":
        payload["text"] = {"content": f" {text}" if group else text}
    else:
        payload["content"] = content or {}
    return payload


class FakeDingTalk(ServedFake):
    """The fake server; see the module docstring."""

    def __init__(
        self,
        port: int = 0,
        *,
        app_key: str = DEFAULT_APP_KEY,
        app_secret: str = DEFAULT_APP_SECRET,
        token_expire_in: int = 7200,
    ) -> None:
        self.port = port
        self.app_key = app_key
        self.app_secret = app_secret
        self.token_expire_in = token_expire_in
        self.body_limit = 20_000
        self.robot_rate_limit = 20
        self._defaults = (token_expire_in, self.body_limit, self.robot_rate_limit)
        self.invalid_users: set[str] = set()
        self.robots: dict[str, str | None] = {}
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._requests_of_socket: dict[web.WebSocketResponse, web.Request] = {}
        self.clear()

    def reset(self) -> None:
        """`clear()`, and forget the robots and the settings changed since the start."""
        self.clear()
        self.robots.clear()
        self.token_expire_in, self.body_limit, self.robot_rate_limit = self._defaults

    def clear(self) -> None:
        """Forget what was recorded, the faults, the tokens and the robots' counters (robots stay)."""
        self.requests: list[RecordedRequest] = []
        self._session_log: list[tuple[str, dict[str, Any]]] = []
        self._robot_log: list[tuple[str, dict[str, Any]]] = []
        self._openapi_log: list[dict[str, Any]] = []
        self.tokens: list[str] = []
        self.batch_sends: list[dict[str, Any]] = []
        self.cards: dict[str, dict[str, Any]] = {}  # outTrackId → {"create": body, "updates": [bodies]}
        self.group_sends: list[dict[str, Any]] = []
        self.stream_opens: list[dict[str, Any]] = []
        self.stream_received: list[dict[str, Any]] = []
        self.stream_acks: dict[str, dict[str, Any]] = {}
        self.stream_pongs: dict[str, dict[str, Any]] = {}
        self.stream_connections = 0
        self.invalid_users.clear()
        self._faults: dict[tuple[str, str | None], Fault] = {}
        self._valid_tokens: dict[str, float] = {}
        self._tickets: set[str] = set()
        self._pushed: set[str] = set()
        self._pings: set[str] = set()
        self._robot_sent: dict[str, deque[float]] = defaultdict(deque)

    # What was received.

    def session_messages(self, session: str | None = None) -> list[dict[str, Any]]:
        """The bodies accepted by one sessionWebhook (or by all), in order."""
        return [body for key, body in list(self._session_log) if session is None or key == session]

    def robot_messages(self, access_token: str | None = None) -> list[dict[str, Any]]:
        """The bodies accepted by one custom robot (or by all), in order."""
        return [body for key, body in list(self._robot_log) if access_token is None or key == access_token]

    def openapi_messages(self) -> list[dict[str, Any]]:
        """The OpenAPI robot sends accepted (batchSend and groupMessages/send), as `{"path", "body"}`, in order."""
        return list(self._openapi_log)

    # Addresses.

    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        """The origin to put on a webhook allow list."""
        return self.url

    @property
    def api_base(self) -> str:
        """The OpenAPI base URL (`DINGTALK_API_BASE`)."""
        return self.url

    def session_webhook(self, session_id: str) -> str:
        """A sessionWebhook URL for a session id."""
        return f"{self.url}/robot/sendBySession?session={session_id}"

    def robot_webhook(self, access_token: str) -> str:
        """A custom robot's webhook URL (unsigned) for its access token."""
        return f"{self.url}/robot/send?access_token={access_token}"

    def redirect_url(self, to: str) -> str:
        """A URL that answers a 307 redirect to `to`."""
        return f"{self.url}/_fake/redirect?to={to}"

    # Switches.

    def add_robot(self, access_token: str, secret: str | None = None) -> None:
        """Register a custom robot; with a secret, its requests must be signed."""
        self.robots[access_token] = secret

    def fail(
        self,
        kind: str,
        key: str | None = None,
        *,
        status: int | None = None,
        errcode: int | None = None,
        code: str | None = None,
        message: str = "fake failure",
        delay: float = 0.0,
        drop: bool = False,
        times: int | None = None,
    ) -> None:
        """Spoil requests of `kind` (for one session id or access token as `key`, or all); see `Fault`."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self._faults[(kind, key)] = Fault(status, errcode, code, message, delay, drop, times)

    def heal(self, kind: str | None = None) -> None:
        """Remove the faults (of one kind, or all)."""
        self._faults = {k: v for k, v in self._faults.items() if kind is not None and k[0] != kind}

    def expire_tokens(self) -> None:
        """Make every access token issued so far invalid, as when DingTalk revokes or expires them."""
        self._valid_tokens.clear()

    def callback_payload(self, text: str, **options: Any) -> dict[str, Any]:
        """`callback_payload` with a sessionWebhook on this fake (session id = the message id) by default."""
        msg_id = options.setdefault("msg_id", f"msg{uuid.uuid4().hex}")
        options.setdefault("session_webhook", self.session_webhook(f"sess-{msg_id}"))
        return callback_payload(text, **options)

    # Running.

    async def start(self) -> None:
        """Listen on 127.0.0.1 in the running loop."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/robot/sendBySession", self._session_webhook)
        app.router.add_post("/robot/send", self._robot_webhook)
        app.router.add_post("/v1.0/oauth2/accessToken", self._access_token)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self._batch_send)
        app.router.add_post("/v1.0/robot/groupMessages/send", self._group_send)
        app.router.add_post("/v1.0/gateway/connections/open", self._open_connection)
        app.router.add_post("/v1.0/card/instances/createAndDeliver", self._create_card)
        app.router.add_put("/v1.0/card/streaming", self._stream_card)
        app.router.add_get("/connect", self._connect)
        app.router.add_post("/_fake/redirect", self._redirect)
        app.router.add_get("/_fake/requests", self._list)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.port = self._runner.addresses[0][1]
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        """Close the WebSockets, stop listening."""
        for ws in list(self._sockets):
            with suppress(Exception):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def blocking(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        """Run a coroutine of this fake in its own loop from another thread (`in_thread` mode)."""
        if self._loop is None:
            raise RuntimeError("the fake is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def wait_for(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until `condition()` holds; `TimeoutError` after `within` seconds."""
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the fake DingTalk did not see what was expected in time")
            await asyncio.sleep(0.01)

    # Stream mode, from the test's side.

    def stream_connected(self) -> bool:
        """True while a Stream client is connected."""
        return any(not ws.closed for ws in list(self._sockets))

    def push_bot_message_threadsafe(self, payload: dict[str, Any], *, message_id: str | None = None) -> str:
        """`push_bot_message` from another thread (`in_thread` mode); returns the messageId."""
        return self.blocking(self.push_bot_message(payload, message_id=message_id))

    async def push_bot_message(self, payload: dict[str, Any], *, message_id: str | None = None) -> str:
        """Send a robot message to the connected client as DingTalk frames it; returns its messageId."""
        message_id = message_id or f"stream-{uuid.uuid4().hex}"
        self._pushed.add(message_id)
        await self.push_frame(_frame("CALLBACK", BOT_TOPIC, message_id, json.dumps(payload, ensure_ascii=False)))
        return message_id

    async def ping(self) -> str:
        """Send a SYSTEM ping; its answer lands in `stream_pongs`. Returns its messageId."""
        message_id = f"ping-{uuid.uuid4().hex}"
        self._pings.add(message_id)
        await self.push_frame(_frame("SYSTEM", "ping", message_id, json.dumps({"opaque": message_id})))
        return message_id

    async def disconnect(self) -> None:
        """Send a SYSTEM disconnect: DingTalk's notice that the client should reconnect."""
        await self.push_frame(_frame("SYSTEM", "disconnect", f"disc-{uuid.uuid4().hex}", '{"reason": "fake"}'))

    async def drop_stream(self) -> None:
        """Cut every open Stream connection without a closing handshake."""
        for ws in list(self._sockets):
            request = self._requests_of_socket.get(ws)
            if request is not None and request.transport is not None:
                request.transport.abort()

    async def push_frame(self, frame: dict[str, Any], within: float = 5.0) -> None:
        """Send any frame on the newest open connection, waiting `within` seconds for one to be open."""
        await self.wait_for(self.stream_connected, within)
        ws = next(ws for ws in reversed(self._sockets) if not ws.closed)
        await ws.send_str(json.dumps(frame, ensure_ascii=False))

    # Serving.

    async def _record(self, kind: str, request: web.Request) -> tuple[RecordedRequest, bytes]:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {name.lower(): value for name, value in request.headers.items()}
        recorded = RecordedRequest(kind, request.path, dict(request.query), headers, body, len(raw))
        self.requests.append(recorded)
        return recorded, raw

    async def _fault(self, kind: str, key: str | None, request: web.Request) -> web.StreamResponse | None:
        """The spoiled answer when a fault applies to this request, else None."""
        fault = self._faults.get((kind, key)) or self._faults.get((kind, None))
        if fault is None or (fault.times is not None and fault.spoiled >= fault.times):
            return None
        fault.spoiled += 1
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            if request.transport is not None:
                request.transport.abort()
            return web.Response()
        if fault.errcode is not None:
            return web.json_response({"errcode": fault.errcode, "errmsg": fault.message}, status=fault.status or 200)
        if fault.code is not None or fault.status is not None:
            status = fault.status or 400
            return web.json_response({"code": fault.code or "fake.error", "message": fault.message}, status=status)
        return None  # only a delay

    async def _session_webhook(self, request: web.Request) -> web.StreamResponse:
        recorded, raw = await self._record("session", request)
        session = request.query.get("session", "")
        spoiled = await self._fault("session", session, request)
        if spoiled is not None:
            return spoiled
        refusal = self._check_message(recorded.body, raw)
        if refusal is not None:
            return refusal
        self._session_log.append((session, recorded.body))
        return _errcode(0, "ok")

    async def _robot_webhook(self, request: web.Request) -> web.StreamResponse:
        recorded, raw = await self._record("robot", request)
        token = request.query.get("access_token", "")
        spoiled = await self._fault("robot", token, request)
        if spoiled is not None:
            return spoiled
        if token not in self.robots:
            return _errcode(300001, "token is not exist")
        secret = self.robots[token]
        if secret is not None:
            timestamp, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
            if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > SIGN_TOLERANCE_MS:
                return _errcode(310000, "invalid timestamp")
            if not hmac.compare_digest(sign, dingtalk_sign(timestamp, secret)):
                return _errcode(310000, "sign not match")
        refusal = self._check_message(recorded.body, raw)
        if refusal is not None:
            return refusal
        sent, now = self._robot_sent[token], time.monotonic()
        while sent and now - sent[0] >= 60:
            sent.popleft()
        if len(sent) >= self.robot_rate_limit:
            return _errcode(130101, "send too fast, exceed 20 times per minute")
        sent.append(now)
        self._robot_log.append((token, recorded.body))
        return _errcode(0, "ok")

    def _check_message(self, body: Any, raw: bytes) -> web.Response | None:
        if len(raw) > self.body_limit:
            return _errcode(460101, "message too large")
        msgtype = body.get("msgtype") if isinstance(body, dict) else None
        if msgtype not in WEBHOOK_MSGTYPES or not isinstance(body.get(msgtype), dict):
            return _errcode(40035, "缺少参数 json")
        return None

    async def _access_token(self, request: web.Request) -> web.StreamResponse:
        recorded, _ = await self._record("token", request)
        spoiled = await self._fault("token", None, request)
        if spoiled is not None:
            return spoiled
        body = recorded.body if isinstance(recorded.body, dict) else {}
        if body.get("appKey") != self.app_key or body.get("appSecret") != self.app_secret:
            return _openapi_error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        token = f"fake-token-{len(self.tokens) + 1}-{uuid.uuid4().hex[:12]}"
        self.tokens.append(token)
        self._valid_tokens[token] = time.monotonic() + self.token_expire_in
        return web.json_response({"accessToken": token, "expireIn": self.token_expire_in})

    async def _authorised(self, kind: str, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        """An OpenAPI call recorded, then spoiled by a fault or refused for its token, or its JSON body."""
        recorded, _ = await self._record(kind, request)
        refusal = await self._fault(kind, None, request) or self._check_token(recorded)
        return (recorded.body if isinstance(recorded.body, dict) else {}), refusal

    def _check_token(self, recorded: RecordedRequest) -> web.Response | None:
        token = recorded.headers.get("x-acs-dingtalk-access-token", "")
        if self._valid_tokens.get(token, 0) <= time.monotonic():
            return _openapi_error(401, "InvalidAuthentication", "不合法的access_token")
        return None

    async def _batch_send(self, request: web.Request) -> web.StreamResponse:
        return await self._robot_send(request, "batchSend", "userIds", self.batch_sends)

    async def _group_send(self, request: web.Request) -> web.StreamResponse:
        return await self._robot_send(request, "groupSend", "openConversationId", self.group_sends)

    async def _robot_send(
        self, request: web.Request, kind: str, target: str, sent: list[dict[str, Any]]
    ) -> web.StreamResponse:
        body, refusal = await self._authorised(kind, request)
        if refusal is not None:
            return refusal
        problem = _robot_send_problem(body, target)
        if problem is not None:
            return _openapi_error(400, "InvalidParameter", problem)
        sent.append(body)
        self._openapi_log.append({"path": request.path, "body": body})
        answer: dict[str, Any] = {"processQueryKey": f"pqk-{uuid.uuid4().hex}"}
        if kind == "batchSend":
            answer["invalidStaffIdList"] = [u for u in body["userIds"] if u in self.invalid_users]
            answer["flowControlledStaffIdList"] = []
        return web.json_response(answer)

    async def _create_card(self, request: web.Request) -> web.StreamResponse:
        return await self._card_call(request, "cardCreate", "cardTemplateId")

    async def _stream_card(self, request: web.Request) -> web.StreamResponse:
        return await self._card_call(request, "cardStream", "key")

    async def _card_call(self, request: web.Request, kind: str, required: str) -> web.StreamResponse:
        """AI cards: `createAndDeliver` opens a card under its outTrackId, `streaming` updates it."""
        body, refusal = await self._authorised(kind, request)
        if refusal is not None:
            return refusal
        track = body.get("outTrackId")
        if not track or required not in body:
            return _openapi_error(400, "InvalidParameter", f"outTrackId and {required} are required")
        if kind == "cardCreate":
            self.cards[track] = {"create": body, "updates": []}
        elif track not in self.cards:
            return _openapi_error(400, "InvalidParameter", "no card with this outTrackId")
        else:
            self.cards[track]["updates"].append(body)
        return web.json_response({"success": True, "result": {"outTrackId": track}})

    async def _open_connection(self, request: web.Request) -> web.StreamResponse:
        recorded, _ = await self._record("open", request)
        spoiled = await self._fault("open", None, request)
        if spoiled is not None:
            return spoiled
        body = recorded.body if isinstance(recorded.body, dict) else {}
        if body.get("clientId") != self.app_key or body.get("clientSecret") != self.app_secret:
            return _openapi_error(401, "InvalidAuthentication", "clientId or clientSecret is invalid")
        self.stream_opens.append(body)
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return web.json_response({"endpoint": f"ws://127.0.0.1:{self.port}/connect", "ticket": ticket})

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        await self._record("connect", request)
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return _openapi_error(401, "InvalidTicket", "ticket is invalid or used")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self._requests_of_socket[ws] = request
        self.stream_connections += 1
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._received(message.data)
        finally:
            self._sockets.remove(ws)
            self._requests_of_socket.pop(ws, None)
        return ws

    def _received(self, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            frame = {"unparsed": text}
        self.stream_received.append(frame)
        message_id = (frame.get("headers") or {}).get("messageId") if isinstance(frame, dict) else None
        if message_id in self._pushed:
            self.stream_acks[message_id] = frame
        elif message_id in self._pings:
            self.stream_pongs[message_id] = frame

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        await self._record("redirect", request)
        raise web.HTTPTemporaryRedirect(request.query.get("to", "/"))

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response([asdict(r) for r in self.requests])


def _frame(kind: str, topic: str, message_id: str, data: str) -> dict[str, Any]:
    """A frame as DingTalk's gateway sends it."""
    return {
        "specVersion": "1.0",
        "type": kind,
        "headers": {
            "appId": "fake-app-id",
            "connectionId": "fake-connection",
            "contentType": "application/json",
            "messageId": message_id,
            "time": str(int(time.time() * 1000)),
            "topic": topic,
        },
        "data": data,
    }


def _errcode(errcode: int, errmsg: str) -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg})


def _openapi_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "requestid": uuid.uuid4().hex}, status=status)


def _robot_send_problem(body: dict[str, Any], target: str) -> str | None:
    """What DingTalk would refuse in an OpenAPI robot send, or None."""
    if not body.get("robotCode"):
        return "robotCode is required"
    value = body.get(target)
    if target == "userIds" and (not isinstance(value, list) or not value):
        return "userIds is required"
    if target != "userIds" and (not isinstance(value, str) or not value):
        return f"{target} is required"
    if body.get("msgKey") not in MSG_KEYS:
        return "msgKey is invalid"
    try:
        param = json.loads(body.get("msgParam") or "")
    except (TypeError, ValueError):
        return "msgParam is not a JSON string"
    return None if isinstance(param, dict) else "msgParam is not a JSON object"


async def _serve(port: int) -> None:
    async with FakeDingTalk(port) as fake:
        print(json.dumps({"url": fake.url, "app_key": fake.app_key}), flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted, printing the base URL as JSON."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.dingtalk", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    with suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()
