"""The allow list of webhook origins: where the robot may post, so that a caller cannot aim it at internal hosts.

URLs are parsed with yarl, the parser aiohttp itself uses, so that the host we
check is the host we connect to.
"""

from __future__ import annotations

from collections.abc import Iterable

from yarl import URL

from dtbot.dingtalk._problems import invalid

SCHEMES = ("https", "http")


def origin_of(url: URL) -> str:
    """`scheme://host[:port]`, the port shown only when it is not the scheme's default."""
    port = "" if url.is_default_port() else f":{url.port}"
    host = f"[{url.host}]" if url.host and ":" in url.host else url.host
    return f"{url.scheme}://{host}{port}"


def parse_origin(text: str) -> str:
    """An allow-list entry in its normal form; `ValueError` saying what is wrong with it."""
    try:
        url = URL(text.strip())
    except ValueError as error:
        raise ValueError(f"not a URL: {error}") from None
    if url.scheme not in SCHEMES or not url.host:
        raise ValueError("expected http(s)://host[:port]")
    if url.user is not None or url.path not in ("", "/") or url.query_string or url.fragment:
        raise ValueError("expected an origin only, without user, path or query")
    return origin_of(url)


class Allowlist:
    """Origins a URL must match exactly (scheme, host and port): https only, unless an http origin is listed."""

    def __init__(self, origins: Iterable[str]) -> None:
        self.origins = frozenset(parse_origin(origin) for origin in origins if origin.strip())

    def check(self, url: str, field: str = "webhook") -> URL:
        """The parsed URL; `InvalidParameter` naming `field` unless its origin is listed.

        The message names the origin at most: the rest of a webhook URL (its
        session or access token) is a secret.
        """
        if not isinstance(url, str) or not url:
            raise invalid(field, "expected a URL")
        try:
            parsed = URL(url)
        except ValueError:
            raise invalid(field, "not a valid URL") from None
        if parsed.scheme not in SCHEMES or not parsed.host:
            raise invalid(field, "expected an absolute https URL")
        if parsed.user is not None or parsed.password is not None:
            raise invalid(field, "a URL with user information is not accepted")
        origin = origin_of(parsed)
        if origin not in self.origins:
            raise invalid(field, f"host not allowed: {origin} is not on the webhook allow list")
        return parsed
