'use strict';

/**
 * The SDK's errors: one class per kind of failure, each with the business `code`,
 * the HTTP `status`, the `requestId` (from `X-Request-ID`) and the parsed `body`.
 */
class DtbotAPIError extends Error {
  /**
   * @param {string} message
   * @param {{code?: number|null, status?: number|null, requestId?: string|null, type?: string|null, body?: unknown, headers?: Headers|null, cause?: unknown}} [details]
   */
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = details.code ?? null;
    this.status = details.status ?? null;
    this.requestId = details.requestId ?? null;
    this.type = details.type ?? new.target.defaultType;
    this.body = details.body === undefined ? null : details.body;
    this.headers = details.headers ?? null;
  }

  toString() {
    const where = [this.code ? String(this.code) : null, this.status ? `HTTP ${this.status}` : null]
      .filter(Boolean)
      .join(', ');
    return `${this.name}: ${this.message}${where ? ` (${where})` : ''}`;
  }
}
DtbotAPIError.defaultType = 'api_error';

/** 400: 40003 bad parameters, 40004 unsupported model, 40005 token limit. */
class BadRequestError extends DtbotAPIError {}
BadRequestError.defaultType = 'invalid_request_error';

/** 401: a missing or wrong API key (40001) or DingTalk signature (40002). */
class AuthenticationError extends DtbotAPIError {}
AuthenticationError.defaultType = 'authentication_error';

/** 403: the key's role may not do this (40301). */
class PermissionDeniedError extends DtbotAPIError {}
PermissionDeniedError.defaultType = 'permission_error';

/** 404: no such conversation, key or route (40401). */
class NotFoundError extends DtbotAPIError {}
NotFoundError.defaultType = 'not_found_error';

/** 429 (42901); `retryAfter` is the server's `Retry-After` in seconds, or null. */
class RateLimitError extends DtbotAPIError {
  constructor(message, details = {}) {
    super(message, details);
    this.retryAfter = details.retryAfter ?? null;
  }
}
RateLimitError.defaultType = 'rate_limit_error';

/** 5xx: the LLM (50001), database (50002), cache (50003) or DingTalk (50201) failed. */
class ServerError extends DtbotAPIError {}
ServerError.defaultType = 'server_error';

/** The API could not be reached (`status` is null). */
class ConnectionError extends DtbotAPIError {}
ConnectionError.defaultType = 'connection_error';

/** The API did not answer within `timeout` milliseconds. */
class APITimeoutError extends ConnectionError {}
APITimeoutError.defaultType = 'timeout_error';

const BY_STATUS = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  429: RateLimitError,
};

/** Seconds from a `Retry-After` header (seconds or an HTTP date), or null. */
function parseRetryAfter(value) {
  if (value == null || value === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

/**
 * The error for an error answer, in the envelope or OpenAI's `{"error": …}` form.
 * @param {number} status
 * @param {unknown} body
 * @param {Headers|null} [headers]
 */
function errorFor(status, body, headers = null) {
  const object = body && typeof body === 'object' ? body : {};
  const detail = object.error && typeof object.error === 'object' ? object.error : object;
  const message = String(detail.message || object.message || `HTTP ${status}`);
  const rawCode = Number.isInteger(detail.code) ? detail.code : Number.isInteger(object.code) ? object.code : null;
  const code = rawCode === 200 ? null : rawCode;
  const requestId = (headers && headers.get('x-request-id')) || object.requestId || null;
  const Kind = BY_STATUS[status] || (status >= 500 ? ServerError : DtbotAPIError);
  const details = { code, status, requestId, body, headers, type: typeof detail.type === 'string' ? detail.type : undefined };
  if (Kind === RateLimitError) details.retryAfter = parseRetryAfter(headers && headers.get('retry-after'));
  return new Kind(message, details);
}

module.exports = {
  DtbotAPIError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  RateLimitError,
  ServerError,
  ConnectionError,
  APIConnectionError: ConnectionError,
  APITimeoutError,
  errorFor,
  parseRetryAfter,
};
