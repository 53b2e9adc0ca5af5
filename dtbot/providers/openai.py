"""OpenAI's chat completions, and every endpoint that speaks them (DeepSeek, Moonshot, Ollama, vLLM).

Vendors that differ a little subclass `OpenAIProvider` and declare the
differences: their default URL, a `params` map of how request fields are
renamed, clamped or dropped, and their error codes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import msgspec

from dtbot.providers.base import ChatRequest, Completion, Delta, Usage
from dtbot.providers.http import HttpProvider, json_encode
from dtbot.providers.sse import Event


@dataclass(frozen=True, slots=True)
class Param:
    """How one request field reaches an upstream: dropped, renamed, or clamped into [low, high]."""

    drop: bool = False
    rename: str | None = None
    low: float | None = None
    high: float | None = None

    def apply(self, payload: dict[str, Any], key: str) -> None:
        """Rewrite `payload[key]`, which is present, by this rule."""
        value = payload.pop(key)
        if self.drop:
            return
        if self.low is not None:
            value = max(self.low, value)
        if self.high is not None:
            value = min(self.high, value)
        payload[self.rename or key] = value


DROP = Param(drop=True)
_INCLUDE_USAGE = {"include_usage": True}


class _Message(msgspec.Struct):
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class _Choice(msgspec.Struct):
    message: _Message = msgspec.field(default_factory=_Message)
    finish_reason: str | None = None


class _Response(msgspec.Struct):
    choices: list[_Choice] = []
    usage: Usage | None = None
    id: str | None = None
    model: str | None = None


class _StreamChoice(msgspec.Struct):
    delta: Delta = msgspec.field(default_factory=Delta)
    finish_reason: str | None = None


class _Chunk(msgspec.Struct):
    choices: list[_StreamChoice] = []
    usage: Usage | None = None


_decode_response = msgspec.json.Decoder(_Response).decode
_decode_chunk = msgspec.json.Decoder(_Chunk).decode


class OpenAIProvider(HttpProvider):
    """`POST {base_url}/chat/completions` with a bearer key."""

    default_base_url = "https://api.openai.com/v1"
    error_codes: ClassVar[Mapping[str, bool]] = {
        "insufficient_quota": False,  # comes as a 429, yet waiting will not refill the account
        "rate_limit_exceeded": True,
        "server_error": True,  # the form of an error inside a 200 stream
    }
    params: ClassVar[Mapping[str, Param]] = {}
    # Ask for a usage chunk at the end of a stream (OpenAI sends none otherwise).
    stream_usage_option: ClassVar[bool] = True

    def auth_headers(self, api_key: str) -> dict[str, str]:
        """A bearer token; none for a local server run without keys."""
        return {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def encode_request(self, req: ChatRequest, *, stream: bool) -> bytes:
        """The request as JSON, with this vendor's parameter rules applied."""
        payload: dict[str, Any] = msgspec.to_builtins(req)
        for key, rule in self.params.items():
            if key in payload:
                rule.apply(payload, key)
        if stream:
            payload["stream"] = True
            if self.stream_usage_option:
                payload["stream_options"] = _INCLUDE_USAGE
        return json_encode(payload)

    def decode_completion(self, body: bytes) -> Completion:
        """The first choice and the usage of a chat.completion body."""
        response = _decode_response(body)
        if not response.choices:
            raise self.upstream_error(msgspec.json.decode(body)) or self.error("the response has no choices")
        choice = response.choices[0]
        message = choice.message
        return Completion(
            content=message.content,
            reasoning_content=message.reasoning_content,
            tool_calls=message.tool_calls,
            finish_reason=choice.finish_reason,
            usage=response.usage,
            id=response.id,
            model=response.model,
        )

    async def decode_stream(self, events: AsyncIterator[Event]) -> AsyncGenerator[Delta | Usage, None]:
        """Deltas of the first choice, then the last usage reported (some vendors repeat it on every chunk)."""
        usage: Usage | None = None
        finished = False
        async for event in events:
            if event.data == b"[DONE]":
                finished = True
                break
            chunk = _decode_chunk(event.data)
            if chunk.usage is not None:
                usage = chunk.usage
            if not chunk.choices:
                if chunk.usage is None:  # neither an answer nor usage: an error object, or a vendor's notice
                    self._raise_if_error(event.data)
                continue
            choice = chunk.choices[0]
            delta = choice.delta
            delta.finish_reason = choice.finish_reason
            delta.role = None  # HttpProvider sets it on the first Delta; Zhipu repeats it on every chunk
            delta.content = delta.content or None  # Zhipu's last chunk carries content ""
            if delta.content or delta.reasoning_content or delta.tool_calls or delta.finish_reason:
                finished = finished or delta.finish_reason is not None
                yield delta
        if not finished:
            raise self.error("the stream ended before [DONE]", transient=True)
        if usage is not None:
            yield usage

    def _raise_if_error(self, data: bytes) -> None:
        error = self.upstream_error(msgspec.json.decode(data))
        if error is not None:
            raise error
