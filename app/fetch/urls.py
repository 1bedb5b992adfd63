"""Turn what a person typed into one canonical http(s) URL, and tell which site a URL is on.

``normalize_url`` is the single place where URL text becomes something the fetcher will use.
It parses hosts the way browsers do (WHATWG URL rules) so that tricks such as
``http://2130706433/`` or ``http://0x7f.1/`` come out as the dotted address they really are and
the SSRF guard sees what a connection would reach.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import quote, urlsplit

import idna
import tldextract

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$")
# Characters left as they are in a path or query; everything else is percent-encoded, as a
# browser would before sending the request.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))


class UrlRejected(ValueError):
    """The text is not an http(s) address this service will fetch."""

    template = "{url} cannot be checked: {reason}"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(self.template.format(url=url, reason=reason))
        self.url = url
        self.reason = reason


def normalize_url(raw: str) -> str:
    """Return ``raw`` as a canonical absolute http(s) URL, or raise ``UrlRejected``.

    Adds ``http://`` when no scheme is given (sites that serve https redirect there, and the
    redirect is followed and re-checked), drops credentials, fragments and default ports,
    lowercases scheme and host, IDNA-encodes the host and percent-encodes the path.
    """
    text = _strip(raw)
    shown = text or repr(raw)
    if not text:
        raise UrlRejected(shown, "the address is empty")
    match = _SCHEME.match(text)
    if text.startswith("//"):
        text = "http:" + text
    elif match is None or (
        match.group(1).lower() not in _DEFAULT_PORTS and text[match.end() :][:1].isdigit()
    ):
        # No scheme, or "host:port/..." which merely looks like one.
        text = "http://" + text
    # WHATWG reads "\" as "/" in http(s) URLs: "http://a\@10.0.0.1/" is host a, not 10.0.0.1.
    cut = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=len(text))
    text = text[:cut].replace("\\", "/") + text[cut:]
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UrlRejected(shown, f"it is not a valid web address ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UrlRejected(shown, "only http and https addresses can be checked")
    host = _canonical_host(parts.hostname or "", shown)
    if port == 0:
        raise UrlRejected(shown, "port 0 is not a real port")
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(parts.path, safe=_PATH_SAFE) or "/"
    query = f"?{quote(parts.query, safe=_QUERY_SAFE)}" if parts.query else ""
    return f"{scheme}://{netloc}{path}{query}"


def url_host(url: str) -> str:
    """The host of a normalized URL, without brackets (``::1`` for ``http://[::1]/``)."""
    return urlsplit(url).hostname or ""


def registrable_domain(url: str) -> str:
    """The site a URL belongs to: ``www.clinic.co.uk`` → ``clinic.co.uk``.

    Uses the Public Suffix List bundled with tldextract (never downloaded at run time), private
    suffixes included so two blogs on one hosting service are different sites. An IP address
    or a single-label name is its own site; under a suffix the list does not know (``.example``,
    ``.test``) the last two labels are taken.
    """
    host = url_host(url if "//" in url else f"http://{url}")
    if _ip_or_none(host) is not None:
        return host
    parts = _extractor()(host)
    if parts.suffix:
        return f"{parts.domain}.{parts.suffix}" if parts.domain else host
    return ".".join(host.split(".")[-2:])


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # No suffix-list URLs and no cache directory: only the snapshot inside the package is read.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


def _strip(raw: str) -> str:
    # WHATWG: trim C0 controls and spaces at both ends, drop tabs and newlines anywhere.
    return re.sub(r"[\t\n\r]", "", raw.strip(_C0_AND_SPACE))


class _NotAHost(ValueError):
    """Why a host is refused; ``normalize_url`` says it of the address that was given."""


def _canonical_host(host: str, shown: str) -> str:
    try:
        return _host_form(host)
    except _NotAHost as exc:
        raise UrlRejected(shown, str(exc)) from None


# A crawl meets the same few hosts in link after link: IDNA (pure Python) and the number forms
# are worked out once a host (a URL with a host name 11.4 -> 5.3 us, with an address 15.2 ->
# 5.0 us). A refusal is not kept: lru_cache keeps only what returns.
@lru_cache(maxsize=4_096)
def _host_form(host: str) -> str:
    if not host:
        raise _NotAHost("it has no host name")
    if ":" in host:  # urlsplit only lets colons through inside [brackets]
        address = _ip_or_none(host)
        if not isinstance(address, ipaddress.IPv6Address) or address.scope_id:
            raise _NotAHost(f"[{host}] is not a valid IPv6 address")
        return f"[{address.compressed}]"
    host = host.rstrip(".")  # "localhost." and "localhost" are the same name
    ipv4 = _whatwg_ipv4(host)
    if ipv4 is not None:
        return str(ipv4)
    try:
        encoded = idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise _NotAHost(f"{host!r} is not a valid host name") from None
    labels = encoded.split(".")
    if len(encoded) > 253 or not all(_LABEL.match(label) for label in labels):
        raise _NotAHost(f"{host!r} is not a valid host name")
    return encoded


def _whatwg_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Parse ``host`` as browsers do when its last label is a number, else return None.

    Browsers read ``2130706433``, ``0177.0.0.1``, ``0x7f.1`` and ``127.1`` as 127.0.0.1; reading
    them the same way keeps the guard and a real connection in agreement.
    """
    labels = host.split(".")
    if not re.fullmatch(r"[0-9]+|0[xX][0-9a-fA-F]*", labels[-1]):
        return None
    numbers = [_ipv4_number(label) for label in labels]
    if len(labels) > 4 or any(n is None for n in numbers):
        raise _NotAHost(f"{host!r} is neither a host name nor an IPv4 address")
    *head, last = numbers
    assert last is not None  # checked above; narrows the type
    if any(n is not None and n > 255 for n in head) or last >= 256 ** (5 - len(labels)):
        raise _NotAHost(f"{host!r} is out of range for an IPv4 address")
    value = last
    for index, number in enumerate(head):
        value += (number or 0) << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ipv4_number(label: str) -> int | None:
    if re.fullmatch(r"0[xX][0-9a-fA-F]*", label):
        return int(label[2:] or "0", 16)
    if re.fullmatch(r"0[0-7]+", label):
        return int(label, 8)
    if re.fullmatch(r"[0-9]+", label):
        return int(label)
    return None


def _ip_or_none(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
