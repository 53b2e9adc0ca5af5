"""DingTalk's HMAC-SHA256 signatures: checking callbacks, signing custom robot webhook URLs.

Every reason given in an `InvalidSignature` is short and holds neither the
secret nor the expected signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from dtbot.errors import InvalidSignature

TOLERANCE_MS = 3_600_000  # DingTalk's own rule: a callback older or newer than an hour is refused
_MAX_TIMESTAMP_DIGITS = 16  # milliseconds fit in 13 digits until the year 2286


def _hmac_base64(key: str, message: str) -> str:
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign(timestamp: str, secret: str) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))."""
    return _hmac_base64(secret, f"{timestamp}\n{secret}")


def verify_callback(
    timestamp: str | None,
    signature: str | None,
    app_secret: str,
    now_ms: int,
    tolerance_ms: int = TOLERANCE_MS,
) -> None:
    """Check a robot callback's `timestamp` and `sign` headers; raises `InvalidSignature` when they fail."""
    _check_timestamp(timestamp, now_ms, tolerance_ms)
    _check_signature(signature, sign(str(timestamp), app_secret))


def verify_nonce_callback(
    timestamp: str | None,
    nonce: str | None,
    signature: str | None,
    webhook_secret: str,
    now_ms: int,
    tolerance_ms: int = TOLERANCE_MS,
) -> None:
    """The API document's variant: base64(HMAC-SHA256(key=webhook_secret, msg=f"{timestamp}\\n{nonce}")).

    Whether the nonce was seen before is for the caller to check.
    """
    _check_timestamp(timestamp, now_ms, tolerance_ms)
    if not nonce:
        raise InvalidSignature("签名验证失败: missing nonce")
    _check_signature(signature, _hmac_base64(webhook_secret, f"{timestamp}\n{nonce}"))


def signed_webhook_url(url: str, secret: str, now_ms: int) -> str:
    """A custom group robot's webhook URL with `timestamp` and the URL-encoded `sign` added (or replaced)."""
    timestamp = str(now_ms)
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("timestamp", "sign")]
    query += [("timestamp", timestamp), ("sign", sign(timestamp, secret))]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _check_timestamp(timestamp: str | None, now_ms: int, tolerance_ms: int) -> None:
    if not timestamp:
        raise InvalidSignature("签名验证失败: missing timestamp")
    # isdigit() alone accepts other scripts' digits, which int() would take too.
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        raise InvalidSignature("签名验证失败: timestamp is not a number of milliseconds")
    if abs(now_ms - int(timestamp)) > tolerance_ms:
        raise InvalidSignature("签名验证失败: timestamp too far from now")


def _check_signature(given: str | None, expected: str) -> None:
    if not given:
        raise InvalidSignature("签名验证失败: missing sign")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InvalidSignature("签名验证失败: signature mismatch")
