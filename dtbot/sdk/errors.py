"""The SDK's exceptions: one per kind of failure, each with the business code, HTTP status and request id."""

from __future__ import annotations

from typing import Any


class DtbotAPIError(Exception):
    """The API answered with an error (or could not be reached: `status` is then None)."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        parts = [f"{self.code}" if self.code else None, f"HTTP {self.status}" if self.status else None]
        where = ", ".join(p for p in parts if p)
        return f"{self.message} ({where})" if where else self.message


class BadRequestError(DtbotAPIError):
    """400: 40003 bad parameters, 40004 unsupported model, 40005 token limit."""


class AuthenticationError(DtbotAPIError):
    """401: a missing or wrong API key (40001) or DingTalk signature (40002)."""


class PermissionDeniedError(DtbotAPIError):
    """403: the key's role may not do this."""


class NotFoundError(DtbotAPIError):
    """404: no such conversation, key or route."""


class RateLimitError(DtbotAPIError):
    """429 (42901); `retry_after` is the server's `Retry-After` in seconds."""

    retry_after: float | None = None


class ServerError(DtbotAPIError):
    """5xx: the LLM (50001), database (50002), cache (50003) or DingTalk (50201) failed."""


class ConnectionError(DtbotAPIError):
    """The API could not be reached, or did not answer in time."""


_BY_STATUS: dict[int, type[DtbotAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_for(status: int, body: Any, request_id: str | None) -> DtbotAPIError:
    """The exception for an error answer, in the envelope or OpenAI's `{"error": …}` form."""
    detail = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else body
    detail = detail if isinstance(detail, dict) else {}
    message = str(detail.get("message") or f"HTTP {status}")
    code = detail.get("code") if isinstance(detail.get("code"), int) else None
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else DtbotAPIError)
    return kind(message, code=code, status=status, request_id=request_id, body=body)
