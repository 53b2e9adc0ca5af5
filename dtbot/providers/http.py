"""The flow every HTTP adapter shares: one pooled session, timeouts, retries, errors.

An adapter says how to build its URL and headers and how to convert a request,
a response body and a stream of events; this module sends, retries and turns
every failure into a `ProviderError`. A call is retried with exponential
backoff (or the upstream's `Retry-After`) on connection errors, timeouts, 429
and 5xx, and only until the first piece of the answer has been handed on.
"""

from __future__ import annotations

import asyncio
import re
from abc import abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any, ClassVar, TypeVar

import aiohttp
import msgspec

from dtbot.providers.base import ChatRequest, Completion, Delta, Provider, ProviderError, ProviderSettings, Usage
from dtbot.providers.sse import Event, SSEError, iter_events

T = TypeVar("T")

MAX_RETRY_WAIT = 10.0  # seconds; a longer Retry-After is cut to this, the caller is waiting
MAX_CONNECTIONS = 1000  # per provider; aiohttp's default of 100 would queue busy gateways
_SECRET = re.compile(r"(?i)\b(bearer\s+)[^\s\"',]+|\bsk-[\w-]{6,}")
_MIN_KEY_LENGTH = 8  # shorter placeholder keys (a local Ollama takes any) would mangle messages if replaced

json_encode = msgspec.json.Encoder().encode


def error_details(payload: Any) -> tuple[str, str | None] | None:
    """(message, code) of an error body in any form the supported upstreams use, or None.

    Forms: `{"error": {"message", "code" | "type"}}` (OpenAI, Zhipu, DashScope,
    Anthropic), `{"error": "text"}`, and DashScope's native `{"code", "message"}`.
    """
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, dict):
        code = error.get("code") or error.get("type")
        return str(error.get("message") or error), str(code) if code else None
    if isinstance(error, str):
        return error, None
    if "code" in payload and "message" in payload and "choices" not in payload:
        return str(payload["message"]), str(payload["code"])
    return None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The wait an upstream asked for, in seconds, from `retry-after-ms` or `Retry-After`."""
    for name, scale in (("retry-after-ms", 0.001), ("Retry-After", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue  # an HTTP date: rare from these APIs, the backoff will do
    return None


class HttpProvider(Provider):
    """A provider reached over HTTP with JSON requests and event-stream answers."""

    default_base_url: ClassVar[str] = ""
    path: ClassVar[str] = "/chat/completions"
    # An upstream error code (or type) → whether it is transient. For a 429 or 5xx it beats the status,
    # so that a 429 for an empty balance is not retried; inside a 200 body or stream it alone decides.
    error_codes: ClassVar[Mapping[str, bool]] = {}

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self.url = (settings.base_url or self.default_base_url).rstrip("/") + self.path
        self.headers = {"Content-Type": "application/json", **self.auth_headers(settings.api_key)}
        self._timeout = aiohttp.ClientTimeout(total=settings.total_timeout, sock_connect=settings.connect_timeout)
        self._key = settings.api_key if len(settings.api_key) >= _MIN_KEY_LENGTH else ""
        self._session: aiohttp.ClientSession | None = None

    # What an adapter provides.

    @abstractmethod
    def auth_headers(self, api_key: str) -> dict[str, str]:
        """The headers that carry the key."""

    @abstractmethod
    def encode_request(self, req: ChatRequest, *, stream: bool) -> bytes:
        """The request body in the upstream's format."""

    @abstractmethod
    def decode_completion(self, body: bytes) -> Completion:
        """A successful non-stream body; raises a ProviderError for an error object in it."""

    @abstractmethod
    def decode_stream(self, events: AsyncIterator[Event]) -> AsyncGenerator[Delta | Usage, None]:
        """The answer in a stream of events; raises a ProviderError for an error event or a cut stream."""

    # The interface.

    async def complete(self, req: ChatRequest) -> Completion:
        """The whole answer, retried while the upstream fails transiently."""
        return await self._retrying(partial(self._complete_once, self.encode_request(req, stream=False)))

    async def stream(self, req: ChatRequest) -> AsyncIterator[Delta | Usage]:
        """The answer piece by piece; retried only until the first piece is yielded."""
        opened = partial(self._open_stream, self.encode_request(req, stream=True))
        response, items, first = await self._retrying(opened)
        try:
            with self._translated(before_output=False):
                if first is None:
                    return
                if isinstance(first, Delta):
                    first.role = "assistant"
                yield first
                async for item in items:
                    yield item
        finally:
            await items.aclose()
            response.release()

    async def close(self) -> None:
        """Close the pooled session; a later call opens a new one."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # Errors, for the adapters too.

    def error(
        self,
        detail: str,
        *,
        status: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
        before_output: bool = True,
    ) -> ProviderError:
        """A ProviderError named after this provider, with keys and bearer tokens cut out."""
        if self._key:
            detail = detail.replace(self._key, "***")
        detail = _SECRET.sub(lambda m: f"{m[1]}***" if m[1] else "sk-***", detail)
        return ProviderError(
            f"{self.name}: {detail}",
            provider=self.name,
            upstream_status=status,
            transient=transient,
            before_output=before_output,
            retry_after=retry_after,
        )

    def upstream_error(
        self, payload: Any, status: int | None = None, wait: float | None = None
    ) -> ProviderError | None:
        """The error an upstream reported in a decoded body, or None when it reported none."""
        found = error_details(payload)
        if found is None:
            return None
        message, code = found
        detail = f"{message} ({code})" if code else message
        if status is not None:
            detail = f"HTTP {status}: {detail}"
        return self.error(detail, status=status, transient=self._transient(status, code), retry_after=wait)

    def _transient(self, status: int | None, code: str | None) -> bool:
        if status is not None and 400 <= status < 500 and status != 429:
            return False  # the request itself is wrong: sending it again cannot help
        if code is not None and code in self.error_codes:
            return self.error_codes[code]
        return status is not None and (status == 429 or status >= 500)

    def _bad_response(self, status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
        """The error for an HTTP error status, or for a JSON body where an event stream was due."""
        try:
            payload = msgspec.json.decode(body)
        except msgspec.DecodeError:
            payload = None
        wait = retry_after(headers)
        found = self.upstream_error(payload, status, wait)
        if found is not None:
            return found
        if status < 400:
            return self.error(f"expected an event stream, got {headers.get('Content-Type')}", status=status)
        text = body[:200].decode(errors="replace").strip() or "no body"
        return self.error(
            f"HTTP {status}: {text}", status=status, transient=self._transient(status, None), retry_after=wait
        )

    # The flow.

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use so that it belongs to the running loop.
        session = self._session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, ttl_dns_cache=300)
            session = aiohttp.ClientSession(connector=connector, headers=self.headers, timeout=self._timeout)
            self._session = session
        return session

    async def _complete_once(self, body: bytes) -> Completion:
        with self._translated(before_output=True):
            async with self._client().post(self.url, data=body) as response:
                raw = await response.read()
                if response.status >= 400:
                    raise self._bad_response(response.status, raw, response.headers)
                return self.decode_completion(raw)

    async def _open_stream(
        self, body: bytes
    ) -> tuple[aiohttp.ClientResponse, AsyncGenerator[Delta | Usage, None], Delta | Usage | None]:
        """Send, check the status and wait for the first item, all within the first-token timeout."""
        with self._translated(before_output=True):
            async with asyncio.timeout(self.settings.first_token_timeout):
                response = await self._client().post(self.url, data=body)
                try:
                    if response.status >= 400 or response.content_type == "application/json":
                        raise self._bad_response(response.status, await response.read(), response.headers)
                    items = self.decode_stream(iter_events(response.content.iter_any()))
                    first = await anext(items, None)
                except BaseException:
                    response.close()
                    raise
        return response, items, first

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        tries = 0
        while True:
            try:
                return await attempt()
            except ProviderError as exc:
                if not exc.retryable or tries >= self.settings.max_retries:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else self.settings.retry_backoff * 2**tries
            tries += 1
            await asyncio.sleep(min(wait, MAX_RETRY_WAIT))

    @contextmanager
    def _translated(self, *, before_output: bool) -> Iterator[None]:
        """Turn what can go wrong on the wire into a ProviderError that knows if output had started."""
        try:
            yield
        except ProviderError as exc:
            exc.before_output = before_output
            raise
        except TimeoutError as exc:
            raise self.error("timed out", transient=True, before_output=before_output) from exc
        except aiohttp.ClientError as exc:
            detail = f"connection failed: {type(exc).__name__}: {exc}"
            raise self.error(detail, transient=True, before_output=before_output) from exc
        except msgspec.ValidationError as exc:
            raise self.error(f"unexpected response: {exc}", before_output=before_output) from exc
        except (msgspec.DecodeError, SSEError) as exc:
            raise self.error(f"malformed response: {exc}", before_output=before_output) from exc
