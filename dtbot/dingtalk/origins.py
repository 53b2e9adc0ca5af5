"""Where the robot may post, so that a caller cannot aim it at internal hosts.

Two guards. The allow list of webhook origins: URLs are parsed with yarl, the
parser aiohttp itself uses, so that the host we check is the host we connect
to. And a resolver that refuses a host name resolving to a loopback, private,
link-local or otherwise non-public address (DNS tricks, `127.0.0.1.nip.io`,
`http://2130706433/`): it checks the very addresses the connection then uses,
so a name cannot resolve one way for a check and another for the connection.
An internal address is reached only when it is listed as itself (an IP origin).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
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


class NonPublicAddress(OSError):
    """A host name that resolves to an address the robot must not post to."""


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 judged by its IPv4 address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class PublicOnlyResolver(AbstractResolver):
    """aiohttp's resolver, refusing names that resolve to non-public addresses, except the `trusted` ones.

    IP literals never reach a resolver: they are contacted only when the allow list names them.
    """

    def __init__(self, trusted: Iterable[str] = ()) -> None:
        self._inner = DefaultResolver()
        self._trusted = frozenset(host.lower() for host in trusted)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The addresses of `host`; `NonPublicAddress` when any of them is not public."""
        answers = await self._inner.resolve(host, port, family)
        if host.lower() not in self._trusted and not all(is_public(answer["host"]) for answer in answers):
            raise NonPublicAddress(f"{host} resolves to a non-public address")
        return answers

    async def close(self) -> None:
        """Release the inner resolver."""
        await self._inner.close()
