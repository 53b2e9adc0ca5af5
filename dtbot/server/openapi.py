"""The OpenAPI document, completed with what Litestar cannot infer: our error bodies and the SSE stream.

Litestar documents a 400 in its own `ValidationException` shape; every error
dtbot answers is the document's envelope (`OpenAIError` under `/api/v1`), so
each operation lists the statuses it can answer with that schema instead.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin

from dtbot.server.auth import PUBLIC
from dtbot.server.envelope import ErrorEnvelope, OpenAIError

_REF = "#/components/schemas/{name}"
(_ENVELOPE, _OPENAI), _COMPONENTS = msgspec.json.schema_components([ErrorEnvelope, OpenAIError], ref_template=_REF)
_PUBLIC = [re.compile(pattern) for pattern in PUBLIC]
_STREAMING = {"/api/chat/completions", "/api/v1/chat/completions"}
# One server-sent event of a streamed answer (the schema applies to each event).
_EVENT = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "type": "string",
            "description": "a chat.completion.chunk as JSON, an {error} object, or [DONE] at the end",
        }
    },
}
_DESCRIPTIONS = {
    "400": "Invalid parameters (40003), model not supported (40004), token limit (40005)",
    "401": "Missing or invalid API key (40001), or DingTalk signature (40002)",
    "403": "The key's role may not do this (40301)",
    "404": "Not found (40401)",
    "413": "Request body over the configured limit (41301)",
    "429": "Rate limit (42901), with Retry-After",
    "500": "Internal error (50000)",
    "502": "DingTalk refused or failed (50201)",
    "503": "LLM provider (50001), database (50002) or Redis (50003) unavailable",
}


def _statuses(path: str, operation: dict[str, Any]) -> list[str]:
    public = any(pattern.match(path) for pattern in _PUBLIC)
    codes = ["500", "503"]
    if operation.get("parameters") or "requestBody" in operation:
        codes.append("400")
    if "requestBody" in operation:
        codes.append("413")
    if not public:
        codes += ["401", "403", "429"]
    elif path.endswith("/webhook"):
        codes.append("401")
    if "{" in path or path.startswith("/api/conversations") or path.endswith("/chat/completions"):
        codes.append("404")  # a conversation (or key) that does not exist or is not the caller's
    if path.startswith("/api/dingtalk"):
        codes.append("502")
    return sorted(codes)


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every operation's error responses and the streaming answers of chat completions."""
    schema.setdefault("components", {}).setdefault("schemas", {}).update(_COMPONENTS)
    for path, operations in schema.get("paths", {}).items():
        body = _OPENAI if path.startswith("/api/v1/") else _ENVELOPE
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, operation):
                responses[status] = {
                    "description": _DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": body}},
                }
            if path in _STREAMING and "200" in responses:
                responses["200"].setdefault("content", {})["text/event-stream"] = {"schema": _EVENT}
    return schema


class CompletedJsonRenderPlugin(JsonRenderPlugin):
    """`/api/schema/openapi.json`, completed once by `complete`."""

    _completed: dict[str, Any] | None = None

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        """The JSON document."""
        if self._completed is not openapi_schema:  # Litestar builds the schema once and caches it
            self._completed = complete(openapi_schema)
        return super().render(request, openapi_schema)
