"""The API document's response envelope, for success and for errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from msgspec import Struct

from dtbot.errors import DtbotError

T = TypeVar("T")


class Envelope(Struct, Generic[T]):
    """`{code, message, data}` around every successful answer."""

    code: int
    message: str
    data: T


class ErrorDetail(Struct):
    """OpenAI's error object, so OpenAI SDKs raise a readable exception on `/api` too."""

    message: str
    type: str
    code: int


class ErrorEnvelope(Struct, rename="camel"):
    """`{code, message, data: null, timestamp, requestId}` plus `error` for OpenAI clients."""

    code: int
    message: str
    data: Any
    timestamp: datetime
    request_id: str
    error: ErrorDetail


class OpenAIError(Struct):
    """OpenAI's bare error body, for the `/api/v1` routes."""

    error: ErrorDetail


def error_detail(error: DtbotError) -> ErrorDetail:
    """OpenAI's error object for one of our errors."""
    return ErrorDetail(message=error.message, type=error.openai_type, code=error.code)


def ok(data: T, message: str = "success") -> Envelope[T]:
    """A success envelope with code 200."""
    return Envelope(code=200, message=message, data=data)
