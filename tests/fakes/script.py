"""What a fake LLM answers and how it misbehaves, decided from the request alone.

The answer is deterministic: `Echo: <last user message>`, split into chunks.
A marker in the last user message switches behaviours on, for example
`[[fake:status=429,retry_after=1,times=2]]`; the marker is not echoed.

Options (comma-separated, `name` alone means true):

| option | effect |
|---|---|
| `status=N` | answer HTTP N with the provider's error body (`code=` sets its code, `retry_after=S` the header) |
| `toplevel` | with `status`: DashScope's native `{"code", "message", "request_id"}` body |
| `echo_key` | the error message quotes the API key received, as OpenAI's 401 does |
| `times=N` | misbehave only for the first N requests carrying this same marker, then answer normally |
| `reset` | close the connection without answering |
| `delay=S` | wait S seconds before the response headers |
| `chunk_delay=S` | wait S seconds between stream frames |
| `chunks=N` | split the answer into N content chunks (default 3) |
| `disconnect_after=N` | stream: drop the connection after N answer frames; non-stream: after half the body |
| `inband_error` | a 200 whose body, or whose stream after `error_after=N` answer frames, is an error object |
| `malformed_json` | a 200 whose body, or whose second answer frame, is broken JSON |
| `malformed_sse` | a stream whose lines lack the `data:` field |
| `ignore_stream` | a JSON body even when a stream was asked for |
| `no_usage` | no usage in the answer, whatever the request asked for |
| `reasoning` | reasoning first: `reasoning_content` (OpenAI-like) or a thinking block (Anthropic) |
| `tool` | call the request's first tool with `{"text": <last user message>}` |
| `crlf` | stream lines end with CRLF |
| `keepalive` | a `: keep-alive` comment before every event |
| `multiline` | each event's data split over two `data:` lines |
| `split=N` | write the stream in pieces of N bytes, so lines arrive cut |

Usage is counted in characters: prompt = all message text (system included),
completion = the reply, reasoning and tool arguments.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from typing import Any

MARKER = re.compile(r"\[\[fake:([^\]]*)\]\]")


@dataclass(frozen=True)
class Behaviour:
    """The switches of one request; the defaults answer normally."""

    status: int | None = None
    code: str | None = None
    retry_after: str | None = None
    toplevel: bool = False
    echo_key: bool = False
    times: int | None = None
    reset: bool = False
    delay: float = 0.0
    chunk_delay: float = 0.0
    chunks: int = 3
    disconnect_after: int | None = None
    inband_error: bool = False
    error_after: int = 0
    malformed_json: bool = False
    malformed_sse: bool = False
    ignore_stream: bool = False
    no_usage: bool = False
    reasoning: bool = False
    tool: bool = False
    crlf: bool = False
    keepalive: bool = False
    multiline: bool = False
    split: int | None = None

    @classmethod
    def parse(cls, options: str) -> Behaviour:
        """The behaviour for a marker's options; ValueError names an unknown option."""
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in options.split(","))):
            name, has_value, value = item.partition("=")
            if name not in types:
                raise ValueError(f"unknown fake option {name!r}")
            kind = types[name]
            if not has_value:
                values[name] = True
            elif kind == "bool":
                values[name] = value.lower() in ("1", "true", "yes")
            elif "float" in kind:
                values[name] = float(value)
            elif "int" in kind:
                values[name] = int(value)
            else:
                values[name] = value
        return cls(**values)


@dataclass(frozen=True)
class Answer:
    """The reply to one request, with its usage in characters."""

    model: str
    text: str
    chunks: list[str]
    reasoning: str | None
    tool_call: tuple[str, str] | None  # (function name, JSON arguments)
    truncated: bool  # cut at max_tokens characters
    prompt_tokens: int
    completion_tokens: int


def message_text(content: Any) -> str:
    """The text of a message's content, a string or a list of parts."""
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return content if isinstance(content, str) else ""


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """The last user message's text, tool results aside."""
    for message in reversed(messages):
        if message.get("role") == "user":
            text = message_text(message.get("content"))
            if text:
                return text
    return ""


def find_marker(body: Any) -> str | None:
    """The options of the marker in the last user message, or None."""
    messages = body.get("messages") if isinstance(body, dict) else None
    found = MARKER.search(last_user_text(messages)) if isinstance(messages, list) else None
    return found[1] if found else None


def build_answer(body: dict[str, Any], behaviour: Behaviour, system: str = "") -> Answer:
    """The deterministic answer to a chat request."""
    messages = body.get("messages") or []
    text = MARKER.sub("", last_user_text(messages)).strip()
    reply = f"Echo: {text}"
    max_tokens = body.get("max_tokens")
    truncated = isinstance(max_tokens, int) and max_tokens < len(reply)
    if truncated:
        reply = reply[:max_tokens]
    reasoning = f"Thinking about: {text}" if behaviour.reasoning else None
    tools = body.get("tools") or []
    tool_call = None
    if behaviour.tool and tools:
        first = tools[0]
        name = first["function"]["name"] if "function" in first else first["name"]
        tool_call = (name, json.dumps({"text": text}, ensure_ascii=False))
    prompt = len(system) + sum(len(message_text(m.get("content"))) for m in messages)
    completion = len(reply) + len(reasoning or "") + len(tool_call[1] if tool_call else "")
    return Answer(
        model=str(body.get("model", "")),
        text=reply,
        chunks=split_evenly(reply, behaviour.chunks),
        reasoning=reasoning,
        tool_call=tool_call,
        truncated=truncated,
        prompt_tokens=prompt,
        completion_tokens=completion,
    )


def split_evenly(text: str, parts: int) -> list[str]:
    """`text` in `parts` near-equal pieces (fewer when it is shorter)."""
    parts = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), parts)
    pieces, start = [], 0
    for i in range(parts):
        end = start + size + (i < extra)
        pieces.append(text[start:end])
        start = end
    return pieces
