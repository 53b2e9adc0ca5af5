"""Claude through Anthropic's native Messages API, translated to and from OpenAI's shapes.

Request: system messages are lifted into `system`, tool results become user
turns, consecutive turns of one role are merged, `max_tokens` is filled in,
`stop` becomes `stop_sequences`, function tools become Anthropic tools.
Parameters the API lacks (penalties, seed, response_format) are left out.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, ClassVar

import msgspec

from dtbot.errors import InvalidParameter
from dtbot.providers.base import ChatRequest, Completion, Delta, Usage
from dtbot.providers.http import HttpProvider, json_encode
from dtbot.providers.sse import Event

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096  # required by Anthropic, optional in OpenAI's API
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
_TOOL_CHOICES = {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}
_EMPTY_SCHEMA = {"type": "object", "properties": {}}


class _Usage(msgspec.Struct):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None

    @property
    def prompt_tokens(self) -> int:
        # Anthropic counts cached prompt tokens apart; OpenAI's prompt_tokens includes them.
        return self.input_tokens + (self.cache_creation_input_tokens or 0) + (self.cache_read_input_tokens or 0)


class _Block(msgspec.Struct):
    type: str
    text: str | None = None
    thinking: str | None = None
    id: str | None = None
    name: str | None = None
    input: Any = None


class _Message(msgspec.Struct):
    type: str = "message"
    id: str | None = None
    model: str | None = None
    content: list[_Block] = []
    stop_reason: str | None = None
    usage: _Usage = msgspec.field(default_factory=_Usage)


class _Delta(msgspec.Struct):
    type: str | None = None
    text: str | None = None
    thinking: str | None = None
    partial_json: str | None = None
    stop_reason: str | None = None


class _Event(msgspec.Struct):
    type: str
    index: int = 0
    message: _Message | None = None
    content_block: _Block | None = None
    delta: _Delta | None = None
    usage: _Usage | None = None
    error: dict[str, Any] | None = None


_decode_message = msgspec.json.Decoder(_Message).decode
_decode_event = msgspec.json.Decoder(_Event).decode


class AnthropicProvider(HttpProvider):
    """`POST {base_url}/v1/messages` with `x-api-key`."""

    default_base_url = "https://api.anthropic.com"
    path = "/v1/messages"
    error_codes: ClassVar[Mapping[str, bool]] = {
        "overloaded_error": True,
        "rate_limit_error": True,
        "api_error": True,
    }

    def auth_headers(self, api_key: str) -> dict[str, str]:
        """The key and the API version."""
        return {"x-api-key": api_key, "anthropic-version": API_VERSION}

    def encode_request(self, req: ChatRequest, *, stream: bool) -> bytes:
        """The Messages API request for an OpenAI chat request."""
        system, messages = translate_messages(req.messages)
        payload: dict[str, Any] = {
            "model": req.model,
            "max_tokens": req.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": messages,
        }
        if system:
            payload["system"] = system
        if req.temperature is not None:
            payload["temperature"] = min(req.temperature, 1.0)  # OpenAI's range is 0..2, Anthropic's 0..1
        if req.top_p is not None:
            payload["top_p"] = req.top_p
        if req.stop:
            payload["stop_sequences"] = [req.stop] if isinstance(req.stop, str) else req.stop
        if req.user:
            payload["metadata"] = {"user_id": req.user}
        if req.tools:
            payload["tools"] = [translate_tool(tool) for tool in req.tools]
        if req.tool_choice is not None:
            payload["tool_choice"] = translate_tool_choice(req.tool_choice)
        if stream:
            payload["stream"] = True
        return json_encode(payload)

    def decode_completion(self, body: bytes) -> Completion:
        """Text, thinking and tool_use blocks folded into one OpenAI-shaped answer."""
        message = _decode_message(body)
        if message.type == "error":
            raise self.upstream_error(msgspec.json.decode(body)) or self.error("error response without details")
        texts: list[str] = []
        thoughts: list[str] = []
        calls: list[dict[str, Any]] = []
        for block in message.content:
            if block.type == "text" and block.text:
                texts.append(block.text)
            elif block.type == "thinking" and block.thinking:
                thoughts.append(block.thinking)
            elif block.type == "tool_use":
                calls.append(_tool_call(block, arguments=json_encode(block.input or {}).decode()))
        return Completion(
            content="".join(texts) if texts or not calls else None,
            reasoning_content="".join(thoughts) or None,
            tool_calls=calls or None,
            finish_reason=_finish_reason(message.stop_reason),
            usage=Usage(message.usage.prompt_tokens, message.usage.output_tokens),
            id=message.id,
            model=message.model,
        )

    async def decode_stream(self, events: AsyncIterator[Event]) -> AsyncGenerator[Delta | Usage, None]:
        """Deltas from content block events, the finish reason from message_delta, usage at message_stop."""
        prompt_tokens = completion_tokens = 0
        tool_index: dict[int, int] = {}  # content block index → OpenAI tool call index
        async for raw in events:
            event = _decode_event(raw.data)
            kind = event.type
            if kind == "content_block_delta" and event.delta is not None:
                delta = event.delta
                if delta.type == "text_delta" and delta.text:
                    yield Delta(content=delta.text)
                elif delta.type == "thinking_delta" and delta.thinking:
                    yield Delta(reasoning_content=delta.thinking)
                elif delta.type == "input_json_delta" and delta.partial_json:
                    call = {"index": tool_index[event.index], "function": {"arguments": delta.partial_json}}
                    yield Delta(tool_calls=[call])
            elif kind == "content_block_start" and event.content_block is not None:
                block = event.content_block
                if block.type == "tool_use":
                    tool_index[event.index] = len(tool_index)
                    yield Delta(tool_calls=[{"index": tool_index[event.index], **_tool_call(block, arguments="")}])
                elif block.text or block.thinking:
                    yield Delta(content=block.text, reasoning_content=block.thinking)
            elif kind == "message_start" and event.message is not None:
                prompt_tokens = event.message.usage.prompt_tokens
                completion_tokens = event.message.usage.output_tokens
            elif kind == "message_delta":
                if event.usage is not None:  # output_tokens here is the running total
                    completion_tokens = event.usage.output_tokens
                if event.delta is not None and event.delta.stop_reason:
                    yield Delta(finish_reason=_finish_reason(event.delta.stop_reason))
            elif kind == "message_stop":
                yield Usage(prompt_tokens, completion_tokens)
                return
            elif kind == "error":
                raise self.upstream_error({"error": event.error}) or self.error("error event without details")
        raise self.error("the stream ended before message_stop", transient=True)


def translate_messages(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt, Anthropic messages) for OpenAI messages; raises InvalidParameter when one cannot be sent."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            system.append(_text(content))
            continue
        if role == "user":
            blocks = _blocks(content)
        elif role == "assistant":
            blocks = _blocks(content) + [_tool_use(call) for call in message.get("tool_calls") or ()]
        elif role == "tool":
            result = {"type": "tool_result", "tool_use_id": message.get("tool_call_id"), "content": _text(content)}
            role, blocks = "user", [result]
        else:
            raise InvalidParameter(f"Anthropic模型不支持消息角色 {role!r}")
        if not blocks:
            continue  # Anthropic rejects empty turns
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)  # Anthropic wants turns to alternate
        else:
            turns.append({"role": role, "content": blocks})
    return "\n\n".join(part for part in system if part), turns


def translate_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic tool for an OpenAI function tool."""
    function = tool.get("function")
    if tool.get("type") != "function" or not isinstance(function, dict) or not function.get("name"):
        raise InvalidParameter("Anthropic模型只支持 function 类型的工具")
    translated = {"name": function["name"], "input_schema": function.get("parameters") or _EMPTY_SCHEMA}
    if function.get("description"):
        translated["description"] = function["description"]
    return translated


def translate_tool_choice(choice: str | dict[str, Any]) -> dict[str, Any]:
    """Anthropic's tool_choice for OpenAI's."""
    if isinstance(choice, str) and choice in _TOOL_CHOICES:
        return _TOOL_CHOICES[choice]
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "tool", "name": (choice.get("function") or {}).get("name")}
    raise InvalidParameter(f"Anthropic模型不支持 tool_choice {choice!r}")


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(
            part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return content or ""


def _blocks(content: Any) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return [{"type": "text", "text": content}] if content else []
    return [block for part in content if (block := _block(part))]


def _block(part: Any) -> dict[str, Any] | None:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text":
        return {"type": "text", "text": part["text"]} if part.get("text") else None
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url", "") if isinstance(image, dict) else str(image or "")
        if url.startswith("data:"):
            media_type, _, data = url[5:].partition(";base64,")
            return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise InvalidParameter(f"Anthropic模型不支持内容类型 {kind!r}")


def _tool_use(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    try:
        arguments = msgspec.json.decode(function.get("arguments") or "{}")
    except msgspec.DecodeError:
        arguments = None
    if not isinstance(arguments, dict):
        raise InvalidParameter("工具调用的 arguments 必须是 JSON 对象")
    return {"type": "tool_use", "id": call.get("id"), "name": function.get("name"), "input": arguments}


def _tool_call(block: _Block, *, arguments: str) -> dict[str, Any]:
    return {"id": block.id, "type": "function", "function": {"name": block.name, "arguments": arguments}}


def _finish_reason(stop_reason: str | None) -> str | None:
    return FINISH_REASONS.get(stop_reason, "stop") if stop_reason else None
