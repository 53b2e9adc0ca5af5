"""API-key authentication and the admin guard."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from dtbot.services.access import AccessService
from dtbot.services.keys import Principal

# Routes anyone may call: health, metrics (for Prometheus), the API schema and docs, DingTalk's callbacks.
PUBLIC = [r"^/api/health(/live)?$", r"^/metrics$", r"^/api/schema", r"^/api/dingtalk/webhook$"]


def bearer(connection: ASGIConnection) -> str | None:
    """The key in `Authorization: Bearer <key>`, or None."""
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    """Admits requests with a valid key within its rate limit."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        principal = await connection.app.state.runtime.access.admit(bearer(connection))
        return AuthenticationResult(user=principal, auth=None)


def admin_only(connection: ASGIConnection[object, Principal, None, object], _: BaseRouteHandler) -> None:
    """Guard for admin routes: 403 for a user key. OPTIONS needs no key, so it has no user and passes."""
    if connection.scope["method"] != "OPTIONS":
        AccessService.require_admin(connection.user)
