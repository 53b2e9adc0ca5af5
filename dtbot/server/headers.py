"""Headers on every response: the request id, and the security headers an API answers browsers with.

They are appended to the raw header list, the cheapest way on a path every response takes.
"""

from __future__ import annotations

from litestar.types import Message, Scope

from dtbot.server.requestid import request_id_of

# Nothing dtbot answers is a page to frame, sniff, cache or refer from.
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
# The JSON API loads nothing; the Swagger page under /api/schema loads its scripts, so it goes without.
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
_SCHEMA = "/api/schema"
_CACHE_CONTROL = b"cache-control"
_SECURITY = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
_API = [*_SECURITY, (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())]
_NO_STORE = (_CACHE_CONTROL, b"no-store")


async def add_response_headers(message: Message, scope: Scope) -> None:
    """`before_send` hook: every HTTP response, errors included, carries its request id and the security headers."""
    if message["type"] != "http.response.start":
        return
    headers = message.get("headers")
    if not isinstance(headers, list):
        headers = message["headers"] = list(headers or ())  # type: ignore[typeddict-unknown-key]
    if not any(name == _CACHE_CONTROL for name, _ in headers):
        headers.append(_NO_STORE)
    headers.append((b"x-request-id", request_id_of(scope).encode()))
    headers.extend(_SECURITY if scope["path"].startswith(_SCHEMA) else _API)
