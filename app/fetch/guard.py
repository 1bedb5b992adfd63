"""The SSRF guard: a stranger's URL may only make this server talk to the public internet.

Every address a host name resolves to is checked, and the fetch is refused if ANY of them is
forbidden (a name that also points inside the network is not a clinic website). The fetcher
then connects to one of the vetted addresses itself, so a DNS answer that changes between the
check and the connection (DNS rebinding) cannot steer it elsewhere.

Ports are not restricted: clinic sites do run on 8080 or 8443, and since only public
addresses are reachable, a port on them is no more dangerous than any other public URL.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from urllib.parse import urlsplit

from app.fetch.urls import UrlRejected, normalize_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host -> IP address strings; may be a plain function (tests) or a coroutine function.
Resolver = Callable[[str], Sequence[str] | Awaitable[Sequence[str]]]

# Instance metadata services hand out cloud credentials. They are refused even when an allowed
# network covers them: no legitimate configuration needs the fetcher to read them.
_METADATA = {
    ipaddress.ip_address("169.254.169.254"): "AWS, GCP, Azure and others",
    ipaddress.ip_address("fd00:ec2::254"): "AWS over IPv6",
    ipaddress.ip_address("100.100.100.200"): "Alibaba Cloud",
    ipaddress.ip_address("168.63.129.16"): "the Azure host agent",
}

# Named ranges, checked in order so the most specific description wins.
_FORBIDDEN: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), why)
    for net, why in (
        ("0.0.0.0/32", "the unspecified address"),
        ("0.0.0.0/8", "a 'this network' address"),
        ("10.0.0.0/8", "a private network address"),
        ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private network address"),
        ("192.0.0.0/24", "an IETF protocol address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a deprecated 6to4 relay address"),
        ("192.168.0.0/16", "a private network address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("::/96", "a deprecated IPv4-compatible address"),
        ("::ffff:0:0/96", "an IPv4-mapped address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("fc00::/7", "a unique local (private) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)


class AddressNotAllowed(UrlRejected):
    """The URL leads to an address the fetcher must not contact."""

    template = "{url} is not allowed: {reason}"


class HostNotFound(OSError):
    """The host name does not resolve to any address."""

    def __init__(self, host: str, why: str = "no such host name") -> None:
        super().__init__(f"could not find {host}: {why}")
        self.host = host


def forbidden_reason(
    address: IPAddress | str, allowed_networks: Iterable[IPNetwork] = ()
) -> str | None:
    """Why the fetcher must not contact ``address`` ("10.0.0.1 is a private network
    address"), or None when it may."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if ip in _METADATA:
        return f"{ip} is a cloud metadata address ({_METADATA[ip]})"
    if _allowed(ip, allowed_networks):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        # Forms that carry an IPv4 address reach that IPv4 host: judge the embedded one.
        for embedded in _embedded_ipv4(ip):
            if embedded in _METADATA:
                return f"{ip} embeds {embedded}, a cloud metadata address"
            why = _range_reason(embedded)
            if why is not None:
                return f"{ip} embeds {embedded}, {why}"
        if ip in _NAT64:  # DNS64 on an IPv6-only network: the public IPv4 host is reached
            return None
    why = _range_reason(ip)
    return None if why is None else f"{ip} is {why}"


def refuse_address_literal(url: str, allowed_networks: Iterable[IPNetwork] = ()) -> None:
    """Raise AddressNotAllowed now for a URL whose host is a forbidden IP address, so a check
    queued for later is refused at once; host names are judged when they resolve."""
    host = (urlsplit(url).hostname or "").strip("[]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return
    reason = forbidden_reason(ip, allowed_networks)
    if reason is not None:
        raise AddressNotAllowed(url, reason)


def _allowed(ip: IPAddress, allowed_networks: Iterable[IPNetwork]) -> bool:
    return any(ip.version == net.version and ip in net for net in allowed_networks)


def _range_reason(ip: IPAddress) -> str | None:
    for net, why in _FORBIDDEN:
        if ip.version == net.version and ip in net:
            return why
    if not ip.is_global or ip.is_reserved or ip.is_multicast:
        return "not a public internet address"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses that mapped, compatible, NAT64, 6to4 and Teredo forms route to."""
    found = [ip.ipv4_mapped, ip.sixtofour]
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client)
    # ::a.b.c.d (not :: or ::1 themselves) and 64:ff9b::a.b.c.d end in the IPv4 address.
    if 0xFFFF < int(ip) <= 0xFFFFFFFF or ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in found if address is not None]


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressGuard:
    """Resolves a URL's host and refuses it unless every address is public (or allowed)."""

    def __init__(
        self,
        allowed_networks: Iterable[IPNetwork] = (),
        *,
        resolver: Resolver | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.allowed_networks = tuple(allowed_networks)
        self._resolver = resolver or _system_resolver
        self._timeout = timeout

    async def vet(self, url: str) -> list[str]:
        """Return the addresses ``url`` may be fetched from, in resolver order.

        Raises ``UrlRejected`` for a URL that is not http(s), ``AddressNotAllowed`` when any
        address is forbidden and ``HostNotFound`` when the name does not resolve. Nothing is
        connected to here.
        """
        url = normalize_url(url)
        host = urlsplit(url).hostname or ""
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = await self._resolve(host)
        for address in addresses:
            reason = forbidden_reason(address, self.allowed_networks)
            if reason is not None:
                raise AddressNotAllowed(url, reason)
        return [str(address) for address in addresses]

    async def _resolve(self, host: str) -> list[IPAddress]:
        try:
            async with asyncio.timeout(self._timeout):
                answer = self._resolver(host)
                if inspect.isawaitable(answer):
                    answer = await answer
        except TimeoutError:
            raise HostNotFound(host, f"the DNS lookup took over {self._timeout:g} s") from None
        except OSError:
            raise HostNotFound(host) from None
        # getaddrinfo may append a zone ("fe80::1%eth0"); the address itself is what counts.
        addresses = list(dict.fromkeys(ipaddress.ip_address(a.split("%")[0]) for a in answer))
        if not addresses:
            raise HostNotFound(host)
        return addresses


async def _system_resolver(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, None, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]
