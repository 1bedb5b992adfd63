"""An httpx transport that only connects to addresses the SSRF guard has just vetted.

httpx would resolve the host name again when it connects, and a hostile DNS server can answer
with a public address for the check and 127.0.0.1 for the connection (DNS rebinding). Here
each request is vetted, then sent to the vetted IP itself: the URL's host becomes the IP while
the ``Host`` header keeps the name and TLS is told the name through the ``sni_hostname``
extension, so certificates are still verified against the site's name.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx

from app.fetch.guard import AddressGuard

# When a name has several vetted addresses, try this many before giving up (a small stand-in
# for the "happy eyeballs" fallback that resolving inside the connection would have given).
_ADDRESSES_TRIED = 3


@dataclass
class _Host:
    """One host name's connection pool, and whether it is in use."""

    pool: httpx.AsyncHTTPTransport
    in_use: int = 0  # requests whose response has not been closed yet
    last_used: float = field(default_factory=time.monotonic)


class PinnedTransport(httpx.AsyncBaseTransport):
    """Vets every request with ``guard`` and connects to one of the vetted addresses.

    A host that has been quiet for ``idle_after`` seconds has its pool closed: a batch visits
    each site once, and its keep-alive connections would otherwise stay open until the batch
    ends (a file descriptor a site: under the usual limit of 1,024, a 1,200-site batch lost 198
    sites to "Too many open files").
    """

    def __init__(
        self,
        guard: AddressGuard,
        *,
        limits: httpx.Limits,
        verify: ssl.SSLContext | bool = True,
        idle_after: float = 5.0,
    ) -> None:
        self._guard = guard
        self._limits = limits
        self._verify = verify
        self._idle_after = idle_after
        self._ssl: ssl.SSLContext | None = None  # built on first use, then shared by all pools
        # One connection pool per host name. The pool keys connections by the URL's host, which
        # is now an IP; two names on one IP (a CDN) must not share a TLS connection that was
        # verified for the other name.
        self._hosts: dict[str, _Host] = {}
        self._swept = time.monotonic()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.raw_host.decode("ascii")
        addresses = await self._guard.vet(str(request.url))
        await self._close_quiet_hosts()
        entry = self._hosts.get(host)
        if entry is None:
            if self._ssl is None:  # loading the CA bundle takes tens of milliseconds
                self._ssl = httpx.create_ssl_context(self._verify)
            pool = httpx.AsyncHTTPTransport(verify=self._ssl, limits=self._limits, trust_env=False)
            entry = self._hosts[host] = _Host(pool)
        entry.in_use += 1
        try:
            response = await self._send(entry.pool, request, host, addresses)
        except BaseException:
            self._release(entry)
            raise
        response.stream = _Released(response.stream, lambda: self._release(entry))
        return response

    def _release(self, entry: _Host) -> None:
        entry.in_use -= 1
        entry.last_used = time.monotonic()

    async def _close_quiet_hosts(self) -> None:
        """Close the pools of hosts unused for ``idle_after`` seconds (looked at most once a
        second: a batch has hundreds of hosts open)."""
        now = time.monotonic()
        if now - self._swept < min(1.0, self._idle_after):
            return
        self._swept = now
        for name in list(self._hosts):
            # Asked afresh for each: while one pool closes, a request may take up another (or
            # another sweep close it).
            entry = self._hosts.get(name)
            if entry is None:
                continue
            if entry.in_use == 0 and time.monotonic() - entry.last_used >= self._idle_after:
                del self._hosts[name]
                await entry.pool.aclose()

    async def _send(
        self,
        pool: httpx.AsyncHTTPTransport,
        request: httpx.Request,
        host: str,
        addresses: list[str],
    ) -> httpx.Response:
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
        for entry in self._hosts.values():
            await entry.pool.aclose()
        self._hosts.clear()


class _Released(httpx.AsyncByteStream):
    """A response body that tells its host's record when it is closed (the connection is then
    free again, and the host may count as quiet)."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._release is not None:
                self._release()
                self._release = None
