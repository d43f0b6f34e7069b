"""Where a webhook may go. An integration names the URL, so it must not be able to reach the
service's own network: loopback, private, link-local (cloud metadata) and other non-global
addresses are refused, at creation and again at each delivery, against the address actually
connected to (the delivery connects to the vetted address; redirects are not followed)."""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

RESOLVE_TIMEOUT_SECONDS = 5.0


class UrlRefused(Exception):
    """The URL may not receive webhooks (the reason says why)."""


@dataclass(frozen=True)
class Target:
    """A vetted URL: its parts, and the address to connect to."""

    scheme: str
    host: str
    port: int
    address: str


def check_scheme(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise UrlRefused("must be https" if not allow_private else "must be http or https")
    if not parts.hostname:
        raise UrlRefused("has no host")
    if parts.username or parts.password:
        raise UrlRefused("must not carry credentials; use the signature to trust deliveries")


async def vet(url: str, allow_private: bool) -> Target:
    """Resolve the URL's host; refuse it unless every address is public (or private ones are
    allowed). Returns the address to connect to."""
    check_scheme(url, allow_private)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
    except (OSError, TimeoutError):
        raise UrlRefused(f"the host {host!r} does not resolve") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise UrlRefused(f"the host {host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
                raise UrlRefused(f"resolves to {address}, which is not a public address")
    return Target(parts.scheme, host, port, addresses[0])
