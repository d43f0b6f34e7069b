"""Where a webhook may go. An integration names the URL, so it must not be able to reach the
service's own network: loopback, private, link-local (cloud metadata) and other non-global
addresses are refused, at creation and again at each delivery, against the address actually
connected to (the delivery connects to the vetted address; redirects are not followed)."""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

RESOLVE_TIMEOUT_SECONDS = 5.0
ASK_AGAIN_SECONDS = 1.0
ASKS = 3
_LOOKUP_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="afterview-lookup")
# What getaddrinfo answers when the name has no address. Anything else (EAI_AGAIN: the resolver
# timed out or failed) says nothing about the URL.
NO_SUCH_NAME = frozenset(
    getattr(socket, code)
    for code in ("EAI_NONAME", "EAI_NODATA", "EAI_ADDRFAMILY")
    if hasattr(socket, code)
)

Lookup = Callable[[str, int], Awaitable[list[str]]]
"""A host and port to its addresses; raises `socket.gaierror` as getaddrinfo does."""


class UrlRefused(Exception):
    """The URL may not receive webhooks (the reason says why)."""


class ResolverUnavailable(Exception):
    """The host's addresses could not be looked up just now; asking again later may work."""


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


def _getaddrinfo(host: str, port: int) -> list[str]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


async def system_lookup(host: str, port: int) -> list[str]:
    """The host's addresses, as the operating system's resolver gives them, on threads of
    their own: a silent resolver holds one for up to ~10 s, which must not starve the loop's
    default executor."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_LOOKUP_THREADS, _getaddrinfo, host, port)


def _definite(error: BaseException) -> bool:
    """A failure that asking again cannot change: no such name, or a name no resolver takes."""
    no_such_name = isinstance(error, socket.gaierror) and error.errno in NO_SUCH_NAME
    return no_such_name or isinstance(error, UnicodeError)


async def _asked_until_answered(host: str, port: int, lookup: Lookup) -> list[str]:
    """`lookup`, asked again alongside each time the resolver stays silent for `ASK_AGAIN_SECONDS`
    or fails, up to `ASKS` times; the first answer wins. A resolver drops a query now and then,
    and glibc waits 5 s before it asks again itself."""
    pending: set[asyncio.Future[list[str]]] = set()
    asked, failure = 0, None
    try:
        while True:
            if asked < ASKS:
                pending.add(asyncio.ensure_future(lookup(host, port)))
                asked += 1
            elif not pending:
                assert failure is not None
                raise failure
            done, pending = await asyncio.wait(
                pending, timeout=ASK_AGAIN_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                error = task.exception()
                if error is None:
                    return task.result()
                if _definite(error):
                    raise error
                failure = error
    finally:
        for task in pending:
            task.cancel()


async def _addresses(host: str, port: int, lookup: Lookup) -> list[str]:
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            addresses = await _asked_until_answered(host, port, lookup)
    except TimeoutError:
        raise ResolverUnavailable(
            f"the resolver gave no answer for {host!r} within {RESOLVE_TIMEOUT_SECONDS:.0f} s"
        ) from None
    except (OSError, UnicodeError) as exc:
        if _definite(exc):
            raise UrlRefused(f"the host {host!r} does not resolve") from None
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise ResolverUnavailable(f"looking up {host!r} failed: {reason}") from None
    if not addresses:
        raise UrlRefused(f"the host {host!r} does not resolve")
    return addresses


# IPv6 forms that carry an IPv4 address a gateway may route to: judged by that address.
_EMBEDDING = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b::/96"))


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Global and unicast; for IPv4-mapped, IPv4-compatible, NAT64 and 6to4 addresses, the
    IPv4 address inside must be too (`is_global` alone passes `::127.0.0.1`)."""
    if address.is_multicast or not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and any(address in net for net in _EMBEDDING):
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return _public(inner)
    return True


async def vet(url: str, allow_private: bool, lookup: Lookup = system_lookup) -> Target:
    """Resolve the URL's host; refuse it unless every address is public (or private ones are
    allowed). Returns the address to connect to. `ResolverUnavailable` when the resolver could
    not say: the URL may be fine."""
    check_scheme(url, allow_private)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _addresses(host, port, lookup)
    if not allow_private:
        for address in addresses:
            if not _public(ipaddress.ip_address(address.split("%", 1)[0])):
                raise UrlRefused(f"resolves to {address}, which is not a public address")
    return Target(parts.scheme, host, port, addresses[0])
