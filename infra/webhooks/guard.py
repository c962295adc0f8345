"""Where deliveries may go (server-side request forgery): a receiver's addresses must
all be public unless private ones are allowed by configuration. Checked when a
subscription is created and again before every attempt, on the addresses the attempt
then connects to (a name that resolves elsewhere later is caught there)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from domain.errors import InvalidInput

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddressError(Exception):
    """The receiver resolves to an address deliveries must not reach."""


def is_public(address: Address) -> bool:
    """Globally routable unicast; IPv4-mapped IPv6 judged as the IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(url: str, *, allow_private: bool) -> list[tuple[Address, int]]:
    """The (address, port) pairs to try for `url`; RefusedAddressError when any
    address is not public (and private ones are not allowed), or none resolves."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise RefusedAddressError(f"the receiver's host does not resolve ({error})") from None
    addresses: list[tuple[Address, int]] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not allow_private and not is_public(address):
            raise RefusedAddressError(
                "the receiver's host resolves to a private, loopback or link-local address "
                "(CRAFTING_WEBHOOKS_ALLOW_PRIVATE=1 allows it for development)"
            )
        if (address, port) not in addresses:
            addresses.append((address, port))
    if not addresses:
        raise RefusedAddressError("the receiver's host does not resolve")
    return addresses


def url_guard(allow_private: bool) -> Callable[[str], None]:
    """The check made when a subscription is created: InvalidInput on `url`."""

    def check(url: str) -> None:
        try:
            resolve(url, allow_private=allow_private)
        except RefusedAddressError as error:
            raise InvalidInput(f"url is refused: {error}.", "url") from None

    return check
