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


def _networks(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# IPv4 ranges no delivery goes to: the IANA IPv4 Special-Purpose Address Registry
# (RFC 6890 and later) whole, not only its "not globally reachable" rows, plus multicast
# and the reserved 240/4. Receivers are ordinary public hosts.
REFUSED_IPV4 = _networks(
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",  # private
    "100.64.0.0/10",  # shared address space (carrier-grade NAT)
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local (cloud metadata at 169.254.169.254)
    "172.16.0.0/12",  # private
    "192.0.0.0/24",  # IETF protocol assignments (192.0.0.8 and the rest)
    "192.0.2.0/24",  # documentation
    "192.31.196.0/24",  # AS112
    "192.52.193.0/24",  # AMT
    "192.88.99.0/24",  # deprecated 6to4 relay anycast
    "192.168.0.0/16",  # private
    "192.175.48.0/24",  # AS112 direct delegation
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",  # documentation
    "203.0.113.0/24",  # documentation
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
)
# IPv6 outside global unicast (2000::/3) is refused whole: loopback, unspecified,
# IPv4-compatible and -mapped forms (judged as their IPv4 first), 100::/64 discard,
# fc00::/7 unique local, fe80::/10 link-local, fec0::/10 deprecated site-local,
# ff00::/8 multicast, 64:ff9b:1::/48 local-use NAT64. Inside it, these:
REFUSED_IPV6 = _networks(
    "2001::/23",  # IETF protocol assignments: Teredo, benchmarking, ORCHID, ...
    "2001:db8::/32",  # documentation
    "3fff::/20",  # documentation
)
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix: the last 32 bits
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")  # 2002:AABB:CCDD::/48 carries A.B.C.D
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT ::ffff:0:a.b.c.d


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, translated, compatible,
    NAT64 well-known prefix, 6to4), or None."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in (NAT64, IPV4_COMPATIBLE, IPV4_TRANSLATED)):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    """Globally routable unicast, judged by what a connection would reach: an IPv6
    address that embeds an IPv4 one (NAT64, 6to4, IPv4-compatible, -mapped and
    -translated) is judged as that IPv4 address; special-purpose, deprecated and
    reserved ranges are never public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
        if address not in GLOBAL_UNICAST or any(address in net for net in REFUSED_IPV6):
            return False
    elif any(address in net for net in REFUSED_IPV4):
        return False
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
