"""Connect only to the addresses the SSRF guard has just vetted.

An HTTP client would resolve a host name again when it connects, and a hostile DNS server can
answer with a public address for the check and 127.0.0.1 for the connection (DNS rebinding).
The fetcher vets each request's host with ``AddressGuard`` and pins the answer here; the
client's connector asks this resolver, never DNS, when it opens a connection, so it connects to
a vetted address while the URL keeps the name (``Host`` header, TLS server name and certificate
check). Address literals never reach a resolver: the guard vets them before the request.
"""

from __future__ import annotations

import socket
from collections import OrderedDict

from aiohttp.abc import AbstractResolver, ResolveResult

from app.fetch.guard import AddressGuard

# When a name has several vetted addresses, try this many before giving up (the connector
# tries them in turn, "happy eyeballs" style).
ADDRESSES_TRIED = 3


class PinnedResolver(AbstractResolver):
    """Answers a connector's look-ups with the addresses last vetted for each host.

    The pins are kept for the most recent ``keep`` hosts: a connection is opened right after its
    request was vetted, so an older pin is never needed; a host missing all the same (a pin
    pushed out meanwhile) is vetted again rather than looked up unvetted.
    """

    def __init__(self, guard: AddressGuard, *, keep: int = 4096) -> None:
        self._guard = guard
        self._keep = keep
        self._pins: OrderedDict[str, list[str]] = OrderedDict()

    def pin(self, host: str, addresses: list[str]) -> None:
        self._pins[host] = addresses
        self._pins.move_to_end(host)
        while len(self._pins) > self._keep:
            self._pins.popitem(last=False)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self._pins.get(host)
        if addresses is None:
            addresses = await self._guard.vet(f"http://{host}/")
        return [_result(host, address, port) for address in addresses[:ADDRESSES_TRIED]]

    async def close(self) -> None:
        self._pins.clear()


def _result(host: str, address: str, port: int) -> ResolveResult:
    return ResolveResult(
        hostname=host,  # what TLS is told and checks the certificate against
        host=address,
        port=port,
        family=socket.AF_INET6 if ":" in address else socket.AF_INET,
        proto=0,
        flags=socket.AI_NUMERICHOST,
    )
