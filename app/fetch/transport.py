"""An httpx transport that only connects to addresses the SSRF guard has just vetted.

httpx would resolve the host name again when it connects, and a hostile DNS server can answer
with a public address for the check and 127.0.0.1 for the connection (DNS rebinding). Here
each request is vetted, then sent to the vetted IP itself: the URL's host becomes the IP while
the ``Host`` header keeps the name and TLS is told the name through the ``sni_hostname``
extension, so certificates are still verified against the site's name.
"""

from __future__ import annotations

import ssl

import httpx

from app.fetch.guard import AddressGuard

# When a name has several vetted addresses, try this many before giving up (a small stand-in
# for the "happy eyeballs" fallback that resolving inside the connection would have given).
_ADDRESSES_TRIED = 3


class PinnedTransport(httpx.AsyncBaseTransport):
    """Vets every request with ``guard`` and connects to one of the vetted addresses."""

    def __init__(
        self,
        guard: AddressGuard,
        *,
        limits: httpx.Limits,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._guard = guard
        self._limits = limits
        self._verify = verify
        self._ssl: ssl.SSLContext | None = None  # built on first use, then shared by all pools
        # One connection pool per host name. The pool keys connections by the URL's host, which
        # is now an IP; two names on one IP (a CDN) must not share a TLS connection that was
        # verified for the other name.
        self._pools: dict[str, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.raw_host.decode("ascii")
        addresses = await self._guard.vet(str(request.url))
        pool = self._pools.get(host)
        if pool is None:
            if self._ssl is None:  # loading the CA bundle takes tens of milliseconds
                self._ssl = httpx.create_ssl_context(self._verify)
            pool = self._pools[host] = httpx.AsyncHTTPTransport(
                verify=self._ssl, limits=self._limits, trust_env=False
            )
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            extensions["sni_hostname"] = host
        error: httpx.ConnectError | None = None
        for address in addresses[:_ADDRESSES_TRIED]:
            pinned = httpx.Request(
                request.method,
                request.url.copy_with(host=address),
                headers=request.headers,  # carries Host: <name>, set when the request was built
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return await pool.handle_async_request(pinned)
            except httpx.ConnectError as exc:  # nothing was sent; the next address may answer
                error = exc
        assert error is not None  # vet() returns at least one address
        raise error

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
        self._pools.clear()
