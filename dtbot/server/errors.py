"""Turn every exception into the document's error envelope with its HTTP status and business code."""

from __future__ import annotations

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from dtbot import logs
from dtbot.clock import local, utcnow
from dtbot.errors import DtbotError, InvalidParameter, NotFound, PayloadTooLarge, PermissionDenied
from dtbot.server.envelope import ErrorEnvelope, OpenAIError, error_detail
from dtbot.server.requestid import request_id_of

_log = logs.get("server")
_BY_STATUS: dict[int, type[DtbotError]] = {
    400: InvalidParameter,
    403: PermissionDenied,
    404: NotFound,
    413: PayloadTooLarge,
}


OPENAI_PREFIX = "/api/v1/"


def error_response(request: Request, error: DtbotError) -> Response[ErrorEnvelope | OpenAIError]:
    """The envelope for `error` (OpenAI's bare error under /api/v1), with its status and headers."""
    detail = error_detail(error)
    if request.url.path.startswith(OPENAI_PREFIX):
        return Response(OpenAIError(detail), status_code=error.status, headers=error.headers)
    zone = request.app.state.runtime.zone
    body = ErrorEnvelope(
        code=error.code,
        message=error.message,
        data=None,
        timestamp=local(utcnow(), zone),
        request_id=request_id_of(request.scope),
        error=detail,
    )
    return Response(body, status_code=error.status, headers=error.headers)


def on_dtbot_error(request: Request, error: DtbotError) -> Response[ErrorEnvelope]:
    """Our own errors carry everything already."""
    return error_response(request, error)


def _validation_part(item: dict[str, str]) -> str:
    field, problem = item.get("key") or item.get("source", "body"), item.get("message", "")
    if field == "data":  # the handlers' name for the request body
        field, problem = "body", "a JSON body is required" if problem == "'data'" else problem
    return f"{field}: {problem}"


def _validation_message(error: ValidationException) -> str:
    details = error.extra if isinstance(error.extra, list) else []
    parts = [_validation_part(item) for item in details]
    if not parts:
        parts = [str(error.detail)]
    return "参数格式错误: " + "; ".join(parts)


def on_http_exception(request: Request, error: HTTPException) -> Response[ErrorEnvelope]:
    """Litestar's own errors (bad JSON, unknown route, wrong method) in our envelope."""
    if isinstance(error, ValidationException):
        return error_response(request, InvalidParameter(_validation_message(error)))
    known = _BY_STATUS.get(error.status_code)
    if known is not None:
        message = f"{known.default_message}: {error.detail}" if error.status_code == 400 else None
        return error_response(request, known(message, headers=error.headers))
    generic = DtbotError(str(error.detail), headers=error.headers)
    generic.status, generic.code = error.status_code, error.status_code * 100 + 1
    return error_response(request, generic)


def on_unexpected(request: Request, error: Exception) -> Response[ErrorEnvelope]:
    """A bug: logged with its traceback, answered with a plain 500 that reveals nothing."""
    _log.exception("unhandled error on %s %s [%s]", request.method, request.url.path, request_id_of(request.scope))
    return error_response(request, DtbotError())


EXCEPTION_HANDLERS = {
    DtbotError: on_dtbot_error,
    HTTPException: on_http_exception,
    HTTP_500_INTERNAL_SERVER_ERROR: on_unexpected,
    Exception: on_unexpected,
}
