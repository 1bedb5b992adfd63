"""Say what went wrong with a fetch in words a person understands, never as a traceback."""

from __future__ import annotations

import errno
import ssl
from collections.abc import Iterator

import aiohttp

from app.fetch.decoding import DecodeError
from app.fetch.guard import HostNotFound
from app.settings import Settings

_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "the connection was reset",
    errno.EHOSTUNREACH: "the host is unreachable",
    errno.ENETUNREACH: "the network is unreachable",
    errno.ETIMEDOUT: "the connection timed out",
    errno.EPIPE: "the connection was closed",
}


def describe_error(exc: BaseException, host: str, settings: Settings) -> str:
    """One sentence for a failed fetch of a page on ``host``."""
    if isinstance(exc, HostNotFound | DecodeError):
        return str(exc)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return f"could not connect to {host}: timed out after {settings.connect_timeout:g} s"
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return f"timed out after {settings.read_timeout:g} s waiting for {host}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"could not connect to {host}: {_cause(exc)}"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        return f"{host} broke off the connection or sent a malformed response"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"lost the connection to {host} before the whole page arrived"
    if isinstance(exc, aiohttp.ClientError | OSError):
        return f"lost the connection to {host}: {_cause(exc)}"
    return f"could not read the page on {host}: {exc or type(exc).__name__}"


def _cause(exc: BaseException) -> str:
    """The most telling reason in an exception's chain of causes."""
    for link in _chain(exc):
        if isinstance(link, aiohttp.ClientConnectorCertificateError):
            link = link.certificate_error  # the ssl module's own error, with its message
        if isinstance(link, ssl.SSLCertVerificationError):
            return f"its security certificate is not valid ({link.verify_message})"
        if isinstance(link, ssl.SSLError):
            return "the secure (TLS) connection failed"
        if isinstance(link, OSError) and link.errno in _ERRNO_WORDS:
            return _ERRNO_WORDS[link.errno]
    if isinstance(exc, aiohttp.ClientError):  # aiohttp's own messages are for programmers
        return "the connection failed"
    return str(exc) or "the connection failed"  # an OSError's names the system's reason


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__
