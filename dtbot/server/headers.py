"""Headers on every response: the request id, and the security headers an API answers browsers with."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from dtbot.server.requestid import request_id_of

REQUEST_ID = "x-request-id"
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


async def add_response_headers(message: Message, scope: Scope) -> None:
    """`before_send` hook: every HTTP response, errors included, carries its request id and the security headers."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers[REQUEST_ID] = request_id_of(scope)
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value
    if not scope["path"].startswith(_SCHEMA):
        headers["content-security-policy"] = CONTENT_SECURITY_POLICY
    if "cache-control" not in headers:
        headers["cache-control"] = "no-store"
