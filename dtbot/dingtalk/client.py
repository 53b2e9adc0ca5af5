"""DingTalk over HTTP: posting to webhooks, and the OpenAPI's access token and robot sends.

One pooled aiohttp session, made in the running loop on first use. Requests
never follow redirects, so an allowed host cannot bounce us to another one.
No secret (app secret, access token, webhook token or signature) is put in an
exception message or a log line: webhook URLs appear as their origin only.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

import aiohttp
import msgspec
from yarl import URL

from dtbot.dingtalk import _problems
from dtbot.dingtalk.origins import Allowlist, NonPublicAddress, PublicOnlyResolver, origin_of
from dtbot.dingtalk.outgoing import openapi_param
from dtbot.errors import DtbotError

T = TypeVar("T")
TOKEN_MARGIN = 300.0  # seconds before its expiry when a cached access token is renewed
BUSY_ERRCODES = frozenset({-1})  # 系统繁忙: worth another try
THROTTLE_ERRCODES = frozenset({130101})  # over 20 messages a minute: a retry within seconds fails too
THROTTLE_CODES = ("throttling", "send.too.fast", "too.many", "qpslimit", "flowcontrol")
TOKEN_CODES = frozenset({"invalidauthentication", "invalidaccesstoken", "unauthorized"})
_log = logging.getLogger("dtbot.dingtalk.client")


class DingTalkError(DtbotError):
    """DingTalk refused or could not be reached.

    `errcode`/`errmsg` are DingTalk's (a webhook's number or an OpenAPI `code`
    string), `upstream_status` its HTTP status (None when no answer came),
    `transient` whether the same call may succeed later, `throttled` whether
    a rate limit refused it. `status` stays our own HTTP status (502).
    """

    code, status, default_message = 50201, 502, "钉钉服务调用失败"

    def __init__(
        self,
        detail: str,
        *,
        errcode: int | str | None = None,
        errmsg: str = "",
        upstream_status: int | None = None,
        transient: bool = False,
        throttled: bool = False,
    ) -> None:
        super().__init__(f"{self.default_message}: {detail}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.upstream_status = upstream_status
        self.transient = transient or throttled
        self.throttled = throttled

    @property
    def token_invalid(self) -> bool:
        """True when the OpenAPI refused the access token (expired or revoked)."""
        code = str(self.errcode or "").lower()
        return self.upstream_status == 401 or code in TOKEN_CODES


class DingTalkClient:
    """Webhooks and the OpenAPI; see the module docstring.

    `attempts` and `backoff` govern retries after connection errors, timeouts
    and 5xx answers; `clock` (seconds) decides when the access token is renewed.
    """

    def __init__(
        self,
        api_base: str,
        app_key: str,
        app_secret: str,
        allowlist: Iterable[str],
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_base = URL(api_base.rstrip("/"))
        self.app_key = app_key
        self._app_secret = app_secret
        self.allowlist = Allowlist(allowlist)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._clock = clock
        self._http: aiohttp.ClientSession | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._token: str | None = None
        self._token_renew_at = 0.0
        self._token_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._old_tokens: list[str] = []

    # Connections.

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        # A session belongs to the loop it was made in; a CLI run with a new loop needs a new one.
        if self._http is None or self._http.closed or self._http_loop is not loop:
            connector = aiohttp.TCPConnector(resolver=PublicOnlyResolver(trusted=[self.api_base.host or ""]))
            self._http = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers={"Accept": "application/json"}
            )
            self._http_loop = loop
        return self._http

    def _lock(self) -> asyncio.Lock:
        """The lock that makes concurrent callers share one token request, for the running loop."""
        loop = asyncio.get_running_loop()
        if self._token_lock is None or self._token_lock[0] is not loop:
            self._token_lock = (loop, asyncio.Lock())
        return self._token_lock[1]

    async def close(self) -> None:
        """Close the pooled connections."""
        if self._http is not None and not self._http.closed:
            await self._http.close()
        self._http = None

    # Webhooks.

    def check_url(self, url: str, field: str = "webhook") -> None:
        """`InvalidParameter` unless the URL's origin (scheme://host[:port]) is on the allow list."""
        self.allowlist.check(url, field)

    async def post_webhook(self, url: str, message: dict[str, Any]) -> None:
        """Post a message body to a sessionWebhook or a custom robot webhook; `DingTalkError` when refused."""
        target = self.allowlist.check(url)
        body = msgspec.json.encode(message)
        hidden = [value for value in target.query.values() if value]  # session, access_token, sign
        what = f"webhook {origin_of(target)}"

        async def once() -> None:
            status, answer = await self._post(what, target, body, {})
            _check_webhook_answer(what, status, answer, self._scrubber(hidden))

        await self._retrying(once)

    # The OpenAPI.

    async def access_token(self) -> str:
        """The app's access token, cached until shortly before it expires; one request for concurrent callers."""
        if self._token is not None and self._clock() < self._token_renew_at:
            return self._token
        async with self._lock():
            if self._token is not None and self._clock() < self._token_renew_at:
                return self._token  # a concurrent caller fetched it while we waited
            token, expire_in = await self._fetch_token()
            self._token = token
            self._token_renew_at = self._clock() + max(expire_in - TOKEN_MARGIN, expire_in / 2)
            self._old_tokens = [*self._old_tokens[-3:], token]  # still hidden from messages once replaced
            return token

    def invalidate_token(self, token: str | None = None) -> None:
        """Forget the cached token (only if it is still `token`, when given), so the next call fetches one."""
        if token is None or token == self._token:
            self._token, self._token_renew_at = None, 0.0

    async def send_to_users(self, robot_code: str, user_ids: list[str], message: dict[str, Any]) -> str:
        """Send to users' single chats with the robot (`oToMessages/batchSend`); returns the processQueryKey."""
        key, param = openapi_param(message)
        body = {"robotCode": robot_code, "userIds": user_ids, "msgKey": key, "msgParam": param}
        answer = await self._openapi("/v1.0/robot/oToMessages/batchSend", body)
        invalid, limited = _strings(answer.get("invalidStaffIdList")), _strings(answer.get("flowControlledStaffIdList"))
        refused = set(invalid) | set(limited)
        if refused and refused >= set(user_ids):
            raise DingTalkError("oToMessages/batchSend: no user could be sent to", throttled=bool(limited))
        if refused:
            _log.warning("batchSend skipped %d of %d users (invalid or rate-limited)", len(refused), len(user_ids))
        return str(answer.get("processQueryKey", ""))

    async def send_to_group(self, robot_code: str, open_conversation_id: str, message: dict[str, Any]) -> str:
        """Send to a group the robot is in (`groupMessages/send`); returns the processQueryKey."""
        key, param = openapi_param(message)
        body = {"robotCode": robot_code, "openConversationId": open_conversation_id, "msgKey": key, "msgParam": param}
        answer = await self._openapi("/v1.0/robot/groupMessages/send", body)
        return str(answer.get("processQueryKey", ""))

    async def create_card(
        self, robot_code: str, template_id: str, track_id: str, *, key: str, group: str | None, user: str | None
    ) -> None:
        """Create an AI card from a template and deliver it to a group or a user's chat with the robot."""
        space = f"dtv1.card//IM_GROUP.{group}" if group else f"dtv1.card//IM_ROBOT.{user}"
        body = {
            "cardTemplateId": template_id,
            "outTrackId": track_id,
            "callbackType": "STREAM",
            "cardData": {"cardParamMap": {key: ""}},
            "openSpaceId": space,
            "userIdType": 1,
            "imGroupOpenSpaceModel": {"supportForward": True},
            "imRobotOpenSpaceModel": {"supportForward": True},
            "imGroupOpenDeliverModel": {"robotCode": robot_code},
            "imRobotOpenDeliverModel": {"spaceType": "IM_ROBOT"},
        }
        await self._openapi("/v1.0/card/instances/createAndDeliver", body)

    async def stream_card(self, track_id: str, key: str, content: str, *, final: bool, error: bool = False) -> None:
        """Replace the card's `key` with `content` (the whole text so far); `final` ends its streaming state."""
        body = {
            "outTrackId": track_id,
            "guid": uuid.uuid4().hex,
            "key": key,
            "content": content,
            "isFull": True,
            "isFinalize": final,
            "isError": error,
        }
        await self._openapi("/v1.0/card/streaming", body, method="PUT")

    async def _fetch_token(self) -> tuple[str, float]:
        what = "accessToken"
        if not self.app_key or not self._app_secret:
            raise DingTalkError(f"{what}: the app key and app secret are not configured")
        url = self.api_base / "v1.0/oauth2/accessToken"
        body = msgspec.json.encode({"appKey": self.app_key, "appSecret": self._app_secret})
        answer = await self._retrying(lambda: self._call_openapi(what, url, body, {}))
        token, expire_in = answer.get("accessToken"), answer.get("expireIn")
        if not isinstance(token, str) or not token or not isinstance(expire_in, int | float) or expire_in <= 0:
            raise DingTalkError(f"{what}: unexpected answer")
        return token, float(expire_in)

    async def _openapi(self, path: str, body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
        """A call with the access token; once more with a new token when DingTalk says it is invalid."""
        url = self.api_base / path.lstrip("/")
        encoded = msgspec.json.encode(body)
        what = "/".join(path.rsplit("/", 2)[-2:])  # oToMessages/batchSend, groupMessages/send
        for attempt in (1, 2):
            token = await self.access_token()
            headers = {"x-acs-dingtalk-access-token": token}
            try:
                return await self._retrying(lambda: self._call_openapi(what, url, encoded, headers, method))  # noqa: B023
            except DingTalkError as error:
                if attempt == 2 or not error.token_invalid:
                    raise
                _log.info("%s: access token refused, fetching a new one", what)
                self.invalidate_token(token)
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _call_openapi(
        self, what: str, url: URL, body: bytes, headers: Mapping[str, str], method: str = "POST"
    ) -> dict[str, Any]:
        """One OpenAPI call; errors are 4xx/5xx with `{"code", "message"}`, a 2xx carries the result."""
        status, answer = await self._post(what, url, body, headers, method)
        if 200 <= status < 300 and isinstance(answer, dict):
            return answer
        fields = answer if isinstance(answer, dict) else {}
        code = str(fields["code"]) if fields.get("code") is not None else None
        text = self._scrubber([])(str(fields.get("message") or ""))[:200]
        lowered = (code or "").lower()
        detail = f"{what}: HTTP {status}" + (f" {code}" if code else "") + (f": {text}" if text else "")
        raise DingTalkError(
            detail,
            errcode=code,
            errmsg=text,
            upstream_status=status,
            transient=status >= 500,
            throttled=status == 429 or any(mark in lowered for mark in THROTTLE_CODES),
        )

    # One request, and retries.

    async def _post(
        self, what: str, url: URL, body: bytes, headers: Mapping[str, str], method: str = "POST"
    ) -> tuple[int, Any]:
        """One request (POST, or PUT): (status, parsed JSON or None); no answer or a redirect is raised."""
        all_headers = {"Content-Type": "application/json; charset=utf-8", **headers}
        request = self._session().request(method, url, data=body, headers=all_headers, allow_redirects=False)
        try:
            async with request as response:
                raw = await response.read()
                status = response.status
        # `from None`: aiohttp's messages may hold the URL, and with it a webhook's token.
        except TimeoutError:
            raise DingTalkError(f"{what}: timed out", transient=True) from None
        except aiohttp.ClientError as error:
            if isinstance(getattr(error, "os_error", None), NonPublicAddress):
                problem = f"host not allowed: {origin_of(url)} resolves to a non-public address"
                raise _problems.invalid("webhook", problem) from None
            raise DingTalkError(f"{what}: connection failed ({type(error).__name__})", transient=True) from None
        if 300 <= status < 400:
            raise DingTalkError(f"{what}: HTTP {status}, redirect not followed", upstream_status=status)
        try:
            return status, msgspec.json.decode(raw) if raw else None
        except msgspec.DecodeError:
            return status, None

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call`, tried again after a short wait while it fails transiently (but not when throttled)."""
        for attempt in range(1, self._attempts + 1):
            try:
                return await call()
            except DingTalkError as error:
                if not error.transient or error.throttled or attempt == self._attempts:
                    raise
                wait = self._backoff * 2 ** (attempt - 1)
                _log.warning("%s; try %d of %d in %.2fs", error.message, attempt + 1, self._attempts, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _scrubber(self, more: list[str]) -> Callable[[str], str]:
        """Replaces our secrets (and `more`) in a text DingTalk sent, should it echo one."""
        hidden = [secret for secret in (self._app_secret, *self._old_tokens, *more) if len(secret) >= 4]

        def scrub(text: str) -> str:
            for secret in hidden:
                text = text.replace(secret, "***")
            return text

        return scrub


def _check_webhook_answer(what: str, status: int, answer: Any, scrub: Callable[[str], str]) -> None:
    """A webhook answers `{"errcode": 0, "errmsg": "ok"}`; anything else is an error."""
    fields = answer if isinstance(answer, dict) else {}
    errcode, errmsg = fields.get("errcode"), scrub(str(fields.get("errmsg", "")))[:200]
    if status == 200 and errcode == 0:
        return
    if not isinstance(errcode, int):
        problem = "" if status >= 500 else ", unexpected answer"
        raise DingTalkError(f"{what}: HTTP {status}{problem}", upstream_status=status, transient=status >= 500)
    raise DingTalkError(
        f"{what}: errcode {errcode}: {errmsg}",
        errcode=errcode,
        errmsg=errmsg,
        upstream_status=status,
        transient=status >= 500 or errcode in BUSY_ERRCODES,
        throttled=errcode in THROTTLE_ERRCODES,
    )


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
