"""The error type every layer raises, carrying the API document's business code.

Faces turn a `DtbotError` into their own form: the API envelope with the HTTP
status, one red line and an exit code on the CLI, a message in the dashboard.
Messages never contain secrets.
"""

from __future__ import annotations

from typing import Any


class DtbotError(Exception):
    """A failure with a business code (40001 …), an HTTP status and a message."""

    code: int = 50000
    status: int = 500
    default_message: str = "服务器内部错误"
    openai_type: str = "server_error"

    def __init__(self, message: str | None = None, *, data: Any = None, headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.data = data
        self.headers = headers or {}
        super().__init__(self.message)

    @property
    def is_user_error(self) -> bool:
        """True when the caller's input caused it (4xx), false for our own failures."""
        return self.status < 500


class InvalidApiKey(DtbotError):
    code, status, default_message, openai_type = 40001, 401, "API密钥无效", "authentication_error"


class InvalidSignature(DtbotError):
    code, status, default_message, openai_type = 40002, 401, "签名验证失败", "authentication_error"


class InvalidParameter(DtbotError):
    code, status, default_message, openai_type = 40003, 400, "参数格式错误", "invalid_request_error"


# What the JSON decoder raises, besides its own DecodeError, for a body it cannot read.
UNREADABLE = (UnicodeDecodeError, RecursionError)


def unreadable(error: BaseException, field: str = "body") -> InvalidParameter:
    """The 400 for a body that is not UTF-8 or nests too deeply for the JSON decoder."""
    problem = "not valid UTF-8" if isinstance(error, UnicodeDecodeError) else "JSON nested too deeply"
    return InvalidParameter(f"{InvalidParameter.default_message}: {field}: {problem}")


class ModelNotSupported(DtbotError):
    code, status, default_message, openai_type = 40004, 400, "模型不支持", "invalid_request_error"


class TokenLimitExceeded(DtbotError):
    code, status, default_message, openai_type = 40005, 400, "Token超出限制", "invalid_request_error"


class PermissionDenied(DtbotError):
    code, status, default_message, openai_type = 40301, 403, "权限不足", "permission_error"


class NotFound(DtbotError):
    code, status, default_message, openai_type = 40401, 404, "资源不存在", "not_found_error"


class PayloadTooLarge(DtbotError):
    code, status, default_message, openai_type = 41301, 413, "请求体过大", "invalid_request_error"


class RateLimited(DtbotError):
    code, status, default_message, openai_type = 42901, 429, "请求频率超限", "rate_limit_error"


class LLMServiceError(DtbotError):
    code, status, default_message, openai_type = 50001, 503, "LLM服务调用失败", "api_error"


class DatabaseUnavailable(DtbotError):
    code, status, default_message, openai_type = 50002, 503, "数据库连接异常", "api_error"


class CacheUnavailable(DtbotError):
    code, status, default_message, openai_type = 50003, 503, "缓存服务异常", "api_error"


class ConfigError(Exception):
    """A bad configuration value: the message names the key and what is wrong."""
