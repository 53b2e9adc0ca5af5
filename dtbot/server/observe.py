"""Per-request observation: the request id in every log record, an access line, and the HTTP metrics."""

from __future__ import annotations

import logging
import time

from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from dtbot import logs
from dtbot.errors import DtbotError
from dtbot.logs import REQUEST_ID
from dtbot.metrics import HTTP_DURATION, HTTP_REQUESTS
from dtbot.server.requestid import request_id_of

_access = logs.get("access")


def observe_middleware(app: ASGIApp) -> ASGIApp:
    """Counts and times each HTTP request by its route template (`/api/conversations/{conversation_id:str}`)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        token = REQUEST_ID.set(request_id_of(scope))
        status = 500
        started = time.perf_counter()

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, observed)
        except (DtbotError, HTTPException) as error:  # answered by Litestar's handler, outside this middleware
            status = error.status if isinstance(error, DtbotError) else error.status_code
            raise
        finally:
            elapsed = time.perf_counter() - started
            route, method = scope.get("path_template", "unmatched"), scope["method"]
            HTTP_REQUESTS.labels(route, method, str(status)).inc()
            HTTP_DURATION.labels(route, method).observe(elapsed)
            if _access.isEnabledFor(logging.INFO):
                _access.info("%s %s %d %.1fms", method, scope["path"], status, elapsed * 1000)
            REQUEST_ID.reset(token)

    return middleware
