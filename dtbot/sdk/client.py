"""`DingTalkBotClient` and its async twin: the API document's Python SDK, on httpx.

Both clients share the resources below: a resource describes each call as a
`Call`, and the client runs it (the sync one returning the answer, the async
one a coroutine or an async iterator). Answers are `Record`s with attribute
access; errors are the exceptions of `dtbot.sdk.errors`. 429 and 503 are
retried, waiting as long as `Retry-After` says (or a short backoff).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from dtbot.sdk.errors import ConnectionError, DtbotAPIError, error_for
from dtbot.sdk.records import Record, wrap

RETRY_STATUSES = (429, 503)
MAX_WAIT = 30.0


@dataclass(frozen=True, slots=True)
class Call:
    """One API call: method, path under the base URL, body or query, and whether `data` is unwrapped."""

    method: str
    path: str
    json: Any = None
    params: dict[str, Any] | None = None
    envelope: bool = True


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class _Base:
    def __init__(self, base_url: str, api_key: str | None, timeout: float, max_retries: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout
        self.chat = Chat(self)
        self.conversations = Conversations(self)
        self.models = Models(self)
        self.config = Settings(self)
        self.dingtalk = DingTalk(self)

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None when the answer stands."""
        if response.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
            return None
        try:
            return min(float(response.headers.get("retry-after", "")), MAX_WAIT)
        except ValueError:
            return 0.5 * 2**attempt

    @staticmethod
    def _result(response: httpx.Response, call: Call) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        request_id = response.headers.get("x-request-id")
        if response.status_code >= 400:
            error = error_for(response.status_code, body, request_id)
            if response.status_code == 429 and "retry-after" in response.headers:
                error.retry_after = float(response.headers["retry-after"])  # type: ignore[attr-defined]
            raise error
        if body is None:
            raise DtbotAPIError("the API answered something that is not JSON", status=response.status_code)
        return wrap(body["data"] if call.envelope and isinstance(body, dict) and "data" in body else body)

    def _request_args(self, call: Call) -> dict[str, Any]:
        return {"method": call.method, "url": self.base_url + call.path, "json": call.json, "params": call.params}


def _events(lines: Iterator[str] | list[str]) -> Iterator[Record]:
    """Chunks from server-sent `data:` lines; an `error` event raises."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        yield _chunk(payload)


def _chunk(payload: str) -> Record:
    data = json.loads(payload)
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        raise error_for(503, data, None)
    return wrap(data)


class DingTalkBotClient(_Base):
    """The API, synchronously: `DingTalkBotClient(base_url="http://host:3000/api", api_key="dtb_…")`."""

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = 60.0, max_retries: int = 2):
        super().__init__(base_url, api_key, timeout, max_retries)
        self._http = httpx.Client(headers=self._headers, timeout=timeout)

    def _send(self, call: Call, *, stream: bool = False) -> httpx.Response:
        for attempt in range(self.max_retries + 1):
            try:
                request = self._http.build_request(**self._request_args(call))
                response = self._http.send(request, stream=stream)
            except httpx.HTTPError as error:
                raise ConnectionError(f"cannot reach {self.base_url}: {error}") from None
            wait = self._retry_wait(response, attempt)
            if wait is None:
                return response
            response.close()
            time.sleep(wait)
        raise AssertionError("unreachable")

    def _execute(self, call: Call) -> Any:
        return self._result(self._send(call), call)

    def _stream(self, call: Call) -> Iterator[Record]:
        response = self._send(call, stream=True)
        try:
            if response.status_code >= 400:
                response.read()
                self._result(response, call)
            yield from _events(response.iter_lines())
        finally:
            response.close()

    def health(self) -> Record:
        """`GET /health` (no envelope)."""
        return self._execute(Call("GET", "/health", envelope=False))

    def stats(self) -> Record:
        """`GET /stats` (admin keys)."""
        return self._execute(Call("GET", "/stats"))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DingTalkBotClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncDingTalkBotClient(_Base):
    """The API for asyncio: the same resources, each call awaited (streams: `async for`)."""

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = 60.0, max_retries: int = 2):
        super().__init__(base_url, api_key, timeout, max_retries)
        self._http = httpx.AsyncClient(headers=self._headers, timeout=timeout)

    async def _send(self, call: Call, *, stream: bool = False) -> httpx.Response:
        for attempt in range(self.max_retries + 1):
            try:
                request = self._http.build_request(**self._request_args(call))
                response = await self._http.send(request, stream=stream)
            except httpx.HTTPError as error:
                raise ConnectionError(f"cannot reach {self.base_url}: {error}") from None
            wait = self._retry_wait(response, attempt)
            if wait is None:
                return response
            await response.aclose()
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def _execute(self, call: Call) -> Any:
        return self._result(await self._send(call), call)

    async def _stream(self, call: Call) -> AsyncIterator[Record]:
        response = await self._send(call, stream=True)
        try:
            if response.status_code >= 400:
                await response.aread()
                self._result(response, call)
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    if line[5:].strip() == "[DONE]":
                        return
                    yield _chunk(line[5:].strip())
        finally:
            await response.aclose()

    async def health(self) -> Record:
        """`GET /health` (no envelope)."""
        return await self._execute(Call("GET", "/health", envelope=False))

    async def stats(self) -> Record:
        """`GET /stats` (admin keys)."""
        return await self._execute(Call("GET", "/stats"))

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncDingTalkBotClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _Resource:
    def __init__(self, client: Any) -> None:
        self._client = client


class Completions(_Resource):
    def create(
        self, *, model: str | None = None, messages: list[dict[str, Any]], stream: bool = False, **options: Any
    ) -> Any:
        """A chat completion (OpenAI's parameters, plus `conversationId`); with `stream=True`, the chunks."""
        call = Call(
            "POST",
            "/chat/completions",
            json=_clean({"model": model, "messages": messages, "stream": stream, **options}),
            envelope=False,
        )
        return self._client._stream(call) if stream else self._client._execute(call)


class Chat(_Resource):
    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.completions = Completions(client)


class Conversations(_Resource):
    def create(self, **fields: Any) -> Any:
        """A new conversation: `userId`, `title`, `model`, `systemPrompt`, `maxTokens`, `temperature`."""
        return self._client._execute(Call("POST", "/conversations", json=_clean(fields)))

    def list(
        self,
        *,
        user_id: str | None = None,
        page: int | None = None,
        limit: int | None = None,
        search: str | None = None,
    ) -> Any:
        """A page: `.conversations` and `.pagination`."""
        params = _clean({"userId": user_id, "page": page, "limit": limit, "search": search})
        return self._client._execute(Call("GET", "/conversations", params=params))

    def get(self, conversation_id: str) -> Any:
        return self._client._execute(Call("GET", f"/conversations/{conversation_id}"))

    def messages(self, conversation_id: str, *, page: int | None = None, limit: int | None = None) -> Any:
        """A page of messages: `.messages`, `.totalTokens`, `.pagination`."""
        params = _clean({"page": page, "limit": limit})
        return self._client._execute(Call("GET", f"/conversations/{conversation_id}/messages", params=params))

    def delete(self, conversation_id: str) -> Any:
        return self._client._execute(Call("DELETE", f"/conversations/{conversation_id}"))


class Models(_Resource):
    def list(self) -> Any:
        """The catalog: a list of models with prices and `available`."""
        return self._client._execute(Call("GET", "/models"))


class Settings(_Resource):
    def get(self) -> Any:
        """The runtime settings (admin keys)."""
        return self._client._execute(Call("GET", "/config"))

    def update(self, **changes: Any) -> Any:
        """Change settings, e.g. `update(rateLimitPerMinute=100)`; returns those now in force."""
        return self._client._execute(Call("PUT", "/config", json=changes))


class DingTalk(_Resource):
    def send(self, **message: Any) -> Any:
        """`POST /dingtalk/send`: e.g. `send(sessionWebhook=…, msgtype="text", text={"content": "…"})`."""
        return self._client._execute(Call("POST", "/dingtalk/send", json=message))
